import { createHash } from "node:crypto";
import * as Activity from "../activity";
import { completeIfDone } from "../campaign/complete";
import * as Clock from "../clock";
import * as Database from "../database";
import * as Message from "../message";
import { finishSequence, type MessageRef, reach, suppress } from "./state";

/**
 * One-click unsubscribe (RFC 8058): the token in an email's List-Unsubscribe link names that
 * email. Only its SHA-256 is stored, so the database alone cannot unsubscribe anyone.
 */

const TOKEN = /^[A-Za-z0-9_-]{16,128}$/;

export interface UnsubscribeTarget {
  message: MessageRef;
  email: string;
  alreadyUnsubscribed: boolean;
}

export async function fromToken(token: string): Promise<UnsubscribeTarget | undefined> {
  if (!TOKEN.test(token)) return undefined;
  const hash = createHash("sha256").update(token).digest("hex");
  const row = await Message.byUnsubscribeHash(hash);
  if (!row) return undefined;
  return {
    message: { id: row.id, workspaceId: row.workspaceId, campaignId: row.campaignId, contactId: row.contactId, nodeId: row.nodeId },
    email: row.toEmail,
    alreadyUnsubscribed: row.unsubscribedAt !== null,
  };
}

/**
 * Unsubscribe the contact of this email at once: never emailed again by any campaign of the
 * workspace, counted as `unsubscribed` for that campaign and email. Repeating it changes nothing.
 */
export async function unsubscribe(
  token: string,
  source: "one-click" | "page" | "simulated" = "one-click",
): Promise<UnsubscribeTarget | undefined> {
  const target = await fromToken(token);
  if (!target) return undefined;
  const { message } = target;
  const at = Clock.now();
  const touched = await Database.transaction(async () => {
    const recorded = await Activity.recordAbout(message, {
      type: "unsubscribed",
      occurredAt: at,
      metadata: { source },
      providerKey: `unsubscribe:${message.id}`,
    });
    if (!recorded) return [];
    await reach(message, "unsubscribed", at);
    await finishSequence(message.campaignId, message.contactId, "unsubscribed", at);
    return [message.campaignId, ...(await suppress(message, "unsubscribed", "unsubscribed", at))];
  });
  for (const campaignId of new Set(touched)) await completeIfDone(campaignId);
  return target;
}
