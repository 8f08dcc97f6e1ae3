import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { DOCUMENT_FILE, documentText, SCHEMA_FILE, schemaText } from "../scripts/generate";

/**
 * The committed openapi.json and src/schema.ts are what the server serves and what
 * openapi-typescript makes of it: a route or schema changed without `npm run generate -w
 * @fluenzr/client` fails here, so the document, the client and the server cannot drift apart.
 */
describe("@fluenzr/client is generated from the served document", () => {
  it("openapi.json is the document the server serves", async () => {
    expect(readFileSync(DOCUMENT_FILE, "utf8") === (await documentText()), "stale: run `npm run generate -w @fluenzr/client`").toBe(true);
  });

  it("src/schema.ts is what openapi-typescript generates from it", async () => {
    const committed = readFileSync(SCHEMA_FILE, "utf8");
    expect(committed === (await schemaText(readFileSync(DOCUMENT_FILE, "utf8"))), "stale: run `npm run generate -w @fluenzr/client`").toBe(
      true,
    );
  });
});

describe("the README's TypeScript example", () => {
  it("is examples/quickstart.ts, which the type check covers", () => {
    const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
    const example = readFileSync(new URL("../examples/quickstart.ts", import.meta.url), "utf8");
    expect(readme).toContain("```ts\n" + example + "```");
  });
});
