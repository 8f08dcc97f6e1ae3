import { escapeHtml, htmlToText, isHtml, MissingVariableError, parse, render, textToHtml, variables } from "@fluenzr/core/template";
import { describe, expect, it } from "vitest";

describe("templates", () => {
  it("finds variables with and without fallbacks, whitespace allowed", () => {
    expect(variables("Hi {{firstName}}, {{ company | your team }}!")).toEqual(["firstName", "company"]);
    const { parts, issues } = parse("{{ company | your team }}");
    expect(issues).toEqual([]);
    expect(parts).toEqual([{ type: "variable", name: "company", fallback: "your team", raw: "{{ company | your team }}" }]);
  });

  it.each([
    ["Hi {{firstName", /unclosed/],
    ["Hi {{first name}}", /malformed variable \{\{first name\}\}/],
    ["Hi {{}}", /malformed/],
    ["Hi {{1abc}}", /malformed/],
    ["{{a {{b}}", /unclosed/],
    ["{{|fallback}}", /malformed/],
  ])("reports a malformed template %j", (template, message) => {
    const { issues } = parse(template);
    expect(issues.length).toBeGreaterThan(0);
    expect(issues[0]!.message).toMatch(message);
  });

  it("renders values, fallbacks, and refuses a missing value without fallback", () => {
    expect(render("Hi {{firstName|there}}", { firstName: "Ada" })).toBe("Hi Ada");
    expect(render("Hi {{firstName|there}}", { firstName: "  " })).toBe("Hi there");
    expect(render("Hi {{firstName|}}!", {})).toBe("Hi !");
    expect(render("{{n}} seats", { n: 0 })).toBe("0 seats");
    expect(() => render("Hi {{firstName}}", { firstName: null })).toThrow(MissingVariableError);
    expect(() => render("Hi {{firstName}}", {})).toThrow(/\{\{firstName\}\} has no value/);
  });

  it("reads own fields only: names of Object.prototype are missing values", () => {
    for (const name of ["constructor", "toString", "__proto__", "hasOwnProperty", "valueOf"]) {
      expect(render(`Hi {{${name}|there}}`, { firstName: "Ada" })).toBe("Hi there");
      expect(() => render(`Hi {{${name}}}`, {})).toThrow(MissingVariableError);
    }
    // A custom field of that name is the contact's own value.
    expect(render("{{constructor}}", JSON.parse('{"constructor": "Builder"}'))).toBe("Builder");
  });

  it("escapes substituted values only, for the HTML part", () => {
    expect(render("<b>{{company}}</b>", { company: "Tom & <Jerry>" }, escapeHtml)).toBe("<b>Tom &amp; &lt;Jerry&gt;</b>");
  });

  it("turns plain text into HTML with clickable links, and HTML back into text", () => {
    const html = textToHtml("Hello <you>,\nsee https://example.com/a?b=1.\nBye");
    expect(html).toBe('<div>Hello &lt;you&gt;,<br>\nsee <a href="https://example.com/a?b=1">https://example.com/a?b=1</a>.<br>\nBye</div>');
    expect(isHtml("Hello\nworld")).toBe(false);
    expect(isHtml("<p>Hello</p>")).toBe(true);
    expect(htmlToText('<p>Hi &amp; welcome</p><p>Read <a href="https://x.io">our guide</a></p>')).toBe(
      "Hi & welcome\nRead our guide (https://x.io)",
    );
  });
});
