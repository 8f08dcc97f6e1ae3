/**
 * Email templates: `{{name}}` and `{{name|fallback}}`, whitespace allowed inside the braces.
 * Names are contact fields, custom fields (by key) and `unsubscribeUrl`. A variable without a
 * value and without a fallback is an error, never an empty hole in a sent email.
 */

export type Part = { type: "text"; value: string } | { type: "variable"; name: string; fallback?: string; raw: string };

export interface TemplateIssue {
  /** Offset of the problem in the template. */
  index: number;
  message: string;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Split a template into text and variables, collecting every malformed variable. */
export function parse(template: string): { parts: Part[]; issues: TemplateIssue[] } {
  const parts: Part[] = [];
  const issues: TemplateIssue[] = [];
  let cursor = 0;
  // The next "}}" found so far, reused while it lies ahead: searching again from every "{{" made
  // a template full of unclosed variables quadratic (seconds for the largest body).
  let nextClose = -2;
  while (cursor < template.length) {
    const open = template.indexOf("{{", cursor);
    if (open === -1) break;
    if (nextClose !== -1 && nextClose < open + 2) nextClose = template.indexOf("}}", open + 2);
    const close = nextClose;
    const nextOpen = template.indexOf("{{", open + 2);
    if (close === -1 || (nextOpen !== -1 && nextOpen < close)) {
      issues.push({ index: open, message: `unclosed "{{" at position ${open}: every variable ends with "}}"` });
      if (open > cursor) parts.push({ type: "text", value: template.slice(cursor, open) });
      parts.push({ type: "text", value: "{{" });
      cursor = open + 2;
      continue;
    }
    if (open > cursor) parts.push({ type: "text", value: template.slice(cursor, open) });
    const raw = template.slice(open, close + 2);
    const inner = template.slice(open + 2, close);
    const bar = inner.indexOf("|");
    const name = (bar === -1 ? inner : inner.slice(0, bar)).trim();
    const fallback = bar === -1 ? undefined : inner.slice(bar + 1).trim();
    if (!NAME.test(name)) {
      issues.push({
        index: open,
        message: `malformed variable ${raw} at position ${open}: use {{name}} or {{name|fallback}} with a name of letters, digits and _`,
      });
      parts.push({ type: "text", value: raw });
    } else {
      parts.push({ type: "variable", name, fallback, raw });
    }
    cursor = close + 2;
  }
  if (cursor < template.length) parts.push({ type: "text", value: template.slice(cursor) });
  return { parts, issues };
}

export function variables(template: string): string[] {
  return parse(template).parts.flatMap((p) => (p.type === "variable" ? [p.name] : []));
}

export type Values = Record<string, string | number | boolean | null | undefined>;

export class MissingVariableError extends Error {
  constructor(readonly variable: string) {
    super(`template variable {{${variable}}} has no value for this contact and no fallback`);
    this.name = "MissingVariableError";
  }
}

const present = (value: Values[string]): value is string | number | boolean =>
  value !== null && value !== undefined && String(value).trim() !== "";

/** Fill a template; `escape` is applied to substituted values only (HTML part). */
export function render(template: string, values: Values, escapeValue: (value: string) => string = (v) => v): string {
  let out = "";
  for (const part of parse(template).parts) {
    if (part.type === "text") {
      out += part.value;
      continue;
    }
    // Own properties only: `{{constructor}}` or `{{__proto__}}` must not reach Object.prototype.
    const value = Object.hasOwn(values, part.name) ? values[part.name] : undefined;
    if (present(value)) out += escapeValue(String(value));
    else if (part.fallback !== undefined) out += escapeValue(part.fallback);
    else throw new MissingVariableError(part.name);
  }
  return out;
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

const HTML_TAG = /<\/?(a|p|br|div|span|b|strong|i|em|u|ul|ol|li|h[1-6]|table|tr|td|img|blockquote)\b[^>]*>/i;

/** Does the body carry its own HTML? Otherwise it is plain text. */
export function isHtml(body: string): boolean {
  return HTML_TAG.test(body);
}

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)]/g;

/** Plain text → HTML: escaped, links made clickable (so click tracking can see them), line breaks kept. */
export function textToHtml(text: string): string {
  const escaped = escapeHtml(text);
  const linked = escaped.replace(URL_PATTERN, (url) => `<a href="${url}">${url}</a>`);
  return `<div>${linked.replace(/\r?\n/g, "<br>\n")}</div>`;
}

/** HTML → a readable text part: tags dropped, breaks and paragraphs as newlines, links as "text (url)". */
export function htmlToText(html: string): string {
  return html
    .replace(/<a\b[^>]*href="([^"]*)"[^>]*>([\s\S]*?)<\/a>/gi, (_, href: string, label: string) => {
      const text = label.replace(/<[^>]+>/g, "");
      return text.trim() === href.trim() ? href : `${text} (${href})`;
    })
    .replace(/<br\s*\/?>(\n)?/gi, "\n")
    .replace(/<\/(p|div|li|h[1-6]|tr|blockquote)>/gi, "\n")
    .replace(/<[^>]+>/g, "")
    .replace(/&nbsp;/g, " ")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
}
