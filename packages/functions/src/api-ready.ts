/**
 * Invoked by the deploy (infra/webhooks.ts) before the SNS webhooks are subscribed: waits until
 * the API answers through API Gateway, so SNS's subscription confirmation (3 attempts, 20 s
 * apart, a 4xx never retried) reaches a live endpoint. Throws after `timeoutMs`, which fails the
 * deploy with the last thing seen, instead of a subscription stuck pending.
 */
export interface ReadyInput {
  url: string;
  timeoutMs?: number;
  intervalMs?: number;
}

/** The app's own answer: the OpenAPI document (API Gateway's "Not Found" is not the app). */
const PROBE = "/v1/openapi.json";

export async function waitUntilAnswering(input: ReadyInput, fetcher: typeof fetch = fetch): Promise<{ attempts: number; ms: number }> {
  const started = Date.now();
  const timeoutMs = input.timeoutMs ?? 240_000;
  const intervalMs = input.intervalMs ?? 2_000;
  const url = `${input.url.replace(/\/+$/, "")}${PROBE}`;
  let last = "no attempt";
  for (let attempts = 1; ; attempts++) {
    try {
      const res = await fetcher(url, { signal: AbortSignal.timeout(10_000) });
      const body = await res.text();
      if (res.status === 200 && body.includes('"openapi"')) return { attempts, ms: Date.now() - started };
      last = `HTTP ${res.status} ${body.slice(0, 120)}`;
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() - started + intervalMs > timeoutMs) {
      throw new Error(`The API at ${url} did not answer within ${Math.round(timeoutMs / 1000)} s (last: ${last})`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export async function handler(event: ReadyInput) {
  return waitUntilAnswering(event);
}
