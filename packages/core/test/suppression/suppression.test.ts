import * as Contact from "@fluenzr/core/contact";
import * as Database from "@fluenzr/core/database";
import * as Suppression from "@fluenzr/core/suppression";
import { applySesEvent } from "@fluenzr/core/tracking";
import { factory, type TestWorkspace, useTestDatabase } from "@fluenzr/testing";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { about, ccStatus, sentCampaign } from "../tracking/sent-campaign";

useTestDatabase();

const _events = (messageId: string) =>
  Database.rows<{ type: string; metadata: Record<string, unknown> }>(
    sql`SELECT type, metadata FROM event WHERE message_id = ${messageId} ORDER BY occurred_at, id`,
  );

const suppressions = (ws: TestWorkspace) =>
  Database.rows<{ email: string | null; domain: string | null; reason: string; source_message_id: string | null }>(
    sql`SELECT email, domain, reason, source_message_id FROM suppression WHERE workspace_id = ${ws.id} ORDER BY created_at, id`,
  );

/** Delete the contact and create it again (by hand, then by a bulk import): it comes back suppressed. */
async function recreated(ws: TestWorkspace, contact: Contact.Contact) {
  await ws.as(() => Contact.remove(contact.id));
  const again = await ws.as(() => Contact.create({ email: contact.email.toUpperCase(), firstName: "Again" }));
  await ws.as(() => Contact.remove(again.id));
  const imported = await ws.as(() => Contact.bulk({ contacts: [{ email: contact.email }, { email: "fresh@example.org" }] }));
  expect(imported.created).toBe(2);
  const rows = await ws.as(() => Contact.list({ page: 1, perPage: 10, sort: "createdAt", order: "asc" } as never));
  return { created: again, listed: rows.data };
}

describe("suppression list", () => {
  it("a complaint, then a deleted and re-created contact: complained, never enrolled, never emailed", async () => {
    const { ws, people, sent } = await sentCampaign(2);
    const email = sent.find((e) => e.contactId === people[0]!.id)!;
    expect(await applySesEvent(about("complaint", email, "2026-01-12T10:00:00Z"))).toBe("applied");
    expect(await suppressions(ws)).toEqual([
      { email: people[0]!.email, domain: null, reason: "complained", source_message_id: email.messageId },
    ]);
    const { created, listed } = await recreated(ws, people[0]!);
    expect(created.status).toBe("complained");
    expect(listed.find((c) => c.email === people[0]!.email)!.status).toBe("complained");
    expect(listed.find((c) => c.email === "fresh@example.org")!.status).toBe("active");
    // A redelivered complaint adds nothing.
    await applySesEvent(about("complaint", email, "2026-01-12T10:00:00Z"));
    expect(await suppressions(ws)).toHaveLength(1);
  });

  it("a hard bounce suppresses the address; a soft bounce does not", async () => {
    const { ws, people, sent } = await sentCampaign(2);
    const [a, b] = [sent.find((e) => e.contactId === people[0]!.id)!, sent.find((e) => e.contactId === people[1]!.id)!];
    await applySesEvent(about("bounce-transient", b, "2026-01-12T10:00:00Z"));
    await applySesEvent(about("bounce-permanent", a, "2026-01-12T10:00:00Z"));
    expect((await suppressions(ws)).map((s) => [s.email, s.reason])).toEqual([[people[0]!.email, "bounced"]]);
    const { created } = await recreated(ws, people[0]!);
    expect(created.status).toBe("bounced");
  });

  it("a contact created unsubscribed puts its address on the list; an active contact moved to a listed address takes its status", async () => {
    const ws = await factory.workspace();
    const gone = await ws.as(() => Contact.create({ email: "Gone@Example.org", status: "unsubscribed" }));
    await ws.as(() => Contact.remove(gone.id));
    expect((await ws.as(() => Contact.create({ email: "gone@example.org" }))).status).toBe("unsubscribed");
    const other = await ws.as(() => Contact.create({ email: "other@example.org" }));
    await ws.as(() => Suppression.put(ws.id, { domain: "Blocked.example" }, "manual"));
    const moved = await ws.as(() => Contact.update(other.id, { email: "someone@blocked.example" }));
    expect(moved.status).toBe("unsubscribed");
    // Another workspace is not affected.
    const ws2 = await factory.workspace();
    expect((await ws2.as(() => Contact.create({ email: "gone@example.org" }))).status).toBe("active");
  });

  it("the sender re-checks at send time: a domain listed while the next step is queued gets no email", async () => {
    const { ws, campaign, people, engine } = await sentCampaign(2);
    const sentBefore = engine.mailer.sent.length;
    // The entry only (contacts not updated): the send-time check alone must stop it.
    const domain = people[0]!.email.split("@")[1]!;
    await Database.rows(
      sql`INSERT INTO suppression (id, workspace_id, domain, reason) VALUES ('sup_test0000000000000000000000', ${ws.id}, ${domain.toLowerCase()}, 'manual')`,
    );
    await Database.rows(
      sql`UPDATE campaign_contact SET next_run_at = ${new Date("2026-01-12T09:00:00Z")} WHERE campaign_id = ${campaign.id}`,
    );
    await engine.runMinute();
    // Both contacts are on that domain: nothing more goes out, and their sequences stop.
    expect(engine.mailer.sent.slice(sentBefore)).toEqual([]);
    expect(await ccStatus(campaign.id, people[0]!.id)).toBe("unsubscribed");
    expect(await ccStatus(campaign.id, people[1]!.id)).toBe("unsubscribed");
  });

  it("applying a manual domain entry stops open sequences and suppresses the domain's active contacts", async () => {
    const { ws, campaign, people } = await sentCampaign(2);
    const domain = people[1]!.email.split("@")[1]!;
    const { entry } = await Suppression.put(ws.id, { domain }, "manual");
    const touched = await Suppression.applyToContacts(ws.id, entry, new Date());
    expect(touched).toEqual([campaign.id]);
    expect((await ws.as(() => Contact.fromID(people[1]!.id)))!.status).toBe("unsubscribed");
    expect(await ccStatus(campaign.id, people[1]!.id)).toBe("unsubscribed");
    const again = await Suppression.put(ws.id, { domain: domain.toUpperCase() }, "manual");
    expect(again.created).toBe(false);
  });
});
