import type { IncomingMessage, Server, ServerResponse } from "node:http";

/**
 * The local SES's account status, which aws-ses-v2-local serves from `AWS_SES_ACCOUNT` on
 * `GET /v2/email/account` (SES v2 `GetAccount`) but never enforces. Here it can be flipped (the
 * `PUT /v1/local/ses-account` route, tests): while sending is paused the local SES refuses
 * `SendEmail` with `SendingPausedException`, as SES does, so the engine's handling of a paused
 * SES account (sending/ses-account.ts) runs locally against the same client calls.
 */

export const ENFORCEMENT_STATUSES = ["HEALTHY", "PROBATION", "SHUTDOWN"] as const;
export type EnforcementStatus = (typeof ENFORCEMENT_STATUSES)[number];

export interface LocalSesAccountStatus {
  sendingEnabled: boolean;
  enforcementStatus: EnforcementStatus;
}

let status: LocalSesAccountStatus = { sendingEnabled: true, enforcementStatus: "HEALTHY" };

/** What aws-ses-v2-local validates and answers (every field of its schema). */
function publish(): void {
  process.env.AWS_SES_ACCOUNT = JSON.stringify({
    DedicatedIpAutoWarmupEnabled: false,
    Details: {
      AdditionalContactEmailAddresses: [],
      ContactLanguage: "EN",
      MailType: "MARKETING",
      ReviewDetails: { CaseId: "local", Status: "GRANTED" },
      UseCaseDescription: "FluenzR local mode",
      WebsiteURL: "http://localhost",
    },
    EnforcementStatus: status.enforcementStatus,
    ProductionAccessEnabled: true,
    SendingEnabled: status.sendingEnabled,
    SendQuota: { Max24HourSend: 1_000_000, MaxSendRate: 1000, SentLast24Hours: 0 },
    SuppressionAttributes: { SuppressedReasons: [] },
  });
}

export function getLocalSesAccount(): LocalSesAccountStatus {
  return { ...status };
}

export function setLocalSesAccount(next: Partial<LocalSesAccountStatus>): LocalSesAccountStatus {
  status = { ...status, ...next };
  publish();
  return getLocalSesAccount();
}

const SENDS = new Set(["/v2/email/outbound-emails", "/v2/email/outbound-bulk-emails"]);

/**
 * Serve the account status on the local SES `server` and refuse its sends while paused (in front
 * of its own request handling).
 */
export function enforceLocalSesAccount(server: Server): void {
  publish();
  const handlers = server.listeners("request") as Array<(req: IncomingMessage, res: ServerResponse) => void>;
  server.removeAllListeners("request");
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const paused = !status.sendingEnabled || status.enforcementStatus === "SHUTDOWN";
    if (paused && req.method === "POST" && SENDS.has((req.url ?? "").split("?")[0]!)) {
      req.resume();
      res.writeHead(400, { "content-type": "application/json", "x-amzn-errortype": "SendingPausedException" });
      res.end(JSON.stringify({ message: "Sending is paused for this account (local SES)." }));
      return;
    }
    for (const handle of handlers) handle.call(server, req, res);
  });
}
