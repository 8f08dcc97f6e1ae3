import createClient, { type Client, type ClientOptions } from "openapi-fetch";
import type { components, operations, paths } from "./schema";

/**
 * The typed FluenzR client: types generated from the OpenAPI document (src/schema.ts, by
 * openapi-typescript), requests made by openapi-fetch. Paths, parameters, bodies and answers are
 * all checked by TypeScript:
 *
 *   const api = createFluenzrClient({ baseUrl: "http://localhost:3000", apiKey: "flz_sk_..." });
 *   const { data, error } = await api.POST("/v1/campaigns", { body: { name, emailAccountId } });
 */
export type { components, operations, paths };

type Schemas = components["schemas"];
export type Campaign = Schemas["Campaign"];
export type Contact = Schemas["Contact"];
export type Group = Schemas["Group"];
export type EmailAccount = Schemas["EmailAccount"];
export type CampaignStats = Schemas["CampaignStats"];
export type EmailStats = Schemas["EmailStats"];
export type TimelinePoint = Schemas["TimelinePoint"];
export type ActivityEvent = Schemas["ActivityEvent"];
export type ErrorDetail = Schemas["ErrorDetail"];

export interface FluenzrClientOptions extends Omit<ClientOptions, "baseUrl"> {
  /** The server's origin (`http://localhost:3000`, the API Gateway URL); paths start with /v1. */
  baseUrl: string;
  /** `flz_sk_...`; sent as `Authorization: Bearer`. */
  apiKey?: string;
}

export type FluenzrClient = Client<paths>;

export function createFluenzrClient({ apiKey, headers, ...options }: FluenzrClientOptions): FluenzrClient {
  return createClient<paths>({
    ...options,
    headers: { ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}), ...(headers as Record<string, string> | undefined) },
  });
}
