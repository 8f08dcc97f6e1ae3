import { GetAccountSettingsCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { GetAccountCommand, GetEmailIdentityCommand, NotFoundException, SESv2Client } from "@aws-sdk/client-sesv2";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { checkDatabase, type Finding, type PreflightSettings, preflight, report, settingsFromEnv } from "@fluenzr/local/deploy/preflight";
import { onServer, openTestDatabase } from "@fluenzr/testing";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, afterEach, describe, expect, it } from "vitest";

/**
 * `npm run deploy:check`: the AWS answers come from aws-sdk-client-mock (the SDK's own request
 * pipeline up to the transport), the database answer from a real server.
 */

const sts = mockClient(STSClient);
const ses = mockClient(SESv2Client);
const lambda = mockClient(LambdaClient);
afterEach(() => {
  sts.reset();
  ses.reset();
  lambda.reset();
});
// The mocks patch the client classes for the whole process: give them back for other suites.
afterAll(() => {
  sts.restore();
  ses.restore();
  lambda.restore();
});

const clients = () => ({
  sts: new STSClient({ region: "us-east-1" }),
  ses: new SESv2Client({ region: "us-east-1" }),
  lambda: new LambdaClient({ region: "us-east-1" }),
});

const SETTINGS: PreflightSettings = settingsFromEnv("production", {
  AWS_REGION: "us-east-1",
  EMAIL_DOMAIN: "example.com",
  REPLY_DOMAIN: "reply.example.com",
  TRACKING_DOMAIN: "track.example.com",
  SENDER_MAX_CONCURRENCY: "5",
});

const notFound = () => new NotFoundException({ message: "Email identity does not exist.", $metadata: {} });

/** A production-ready account: credentials, production access, 1000 concurrent executions. */
function readyAccount() {
  sts.on(GetCallerIdentityCommand).resolves({ Account: "123456789012", Arn: "arn:aws:iam::123456789012:user/deployer" });
  ses
    .on(GetAccountCommand)
    .resolves({ ProductionAccessEnabled: true, SendingEnabled: true, SendQuota: { MaxSendRate: 14, Max24HourSend: 50000 } });
  lambda.on(GetAccountSettingsCommand).resolves({ AccountLimit: { ConcurrentExecutions: 1000 } });
  ses.on(GetEmailIdentityCommand).rejects(notFound());
}

const byCheck = (findings: Finding[]) => Object.fromEntries(findings.map((f) => [f.check, f]));

describe("deploy:check", () => {
  it("a first deploy in a ready account: nothing blocks; the identities will be created, the tracking domain waits", async () => {
    readyAccount();
    const findings = byCheck(await preflight(SETTINGS, clients()));
    expect(Object.values(findings).filter((f) => f.level === "fail")).toEqual([]);
    expect(findings.credentials!.message).toContain("123456789012");
    expect(findings["identity example.com"]).toMatchObject({ level: "ok", message: expect.stringMatching(/will be created.*DKIM/) });
    expect(findings["tracking domain"]).toMatchObject({
      level: "warn",
      message: expect.stringMatching(/not covered by a verified SES identity/),
    });
    expect(findings.database!.level).toBe("skip");
    expect(ses.commandCalls(GetEmailIdentityCommand).map((c) => c.args[0].input.EmailIdentity)).toEqual([
      "example.com",
      "reply.example.com",
      "track.example.com",
    ]);
  });

  it("says what is missing in plain words: sandbox, a quota of 10, a region without receiving", async () => {
    readyAccount();
    ses.on(GetAccountCommand).resolves({ ProductionAccessEnabled: false, SendQuota: { Max24HourSend: 200, MaxSendRate: 1 } });
    lambda.on(GetAccountSettingsCommand).resolves({ AccountLimit: { ConcurrentExecutions: 10 } });
    const findings = byCheck(await preflight({ ...SETTINGS, region: "eu-south-2" }, clients()));
    expect(findings.region).toMatchObject({ level: "fail", message: expect.stringMatching(/SES does not receive mail in eu-south-2/) });
    expect(findings["ses production access"]).toMatchObject({
      level: "fail",
      message: expect.stringMatching(/sandbox: 200 emails a day.*Request production access/),
    });
    expect(findings["lambda concurrency"]).toMatchObject({
      level: "fail",
      message: expect.stringMatching(/at most 10 .* needs 15 .*L-B99A9384/),
    });
    expect(report(Object.values(findings))).toMatch(/3 problem\(s\) to fix before deploying/);
  });

  it("stops at missing credentials, saying how to provide them", async () => {
    sts
      .on(GetCallerIdentityCommand)
      .rejects(Object.assign(new Error("Could not load credentials from any providers"), { name: "CredentialsProviderError" }));
    const findings = await preflight(SETTINGS, clients());
    expect(findings).toEqual([
      { check: "credentials", level: "fail", message: expect.stringMatching(/CredentialsProviderError.*aws sts get-caller-identity/) },
    ]);
    expect(ses.calls()).toHaveLength(0);
  });

  it("an identity that already exists: adopt it (a second stage), or be told to", async () => {
    readyAccount();
    ses
      .on(GetEmailIdentityCommand, { EmailIdentity: "example.com" })
      .resolves({ VerifiedForSendingStatus: true, DkimAttributes: { Status: "SUCCESS" } });
    const created = byCheck(await preflight({ ...SETTINGS, replyDomain: undefined }, clients()));
    expect(created["identity example.com"]).toMatchObject({
      level: "warn",
      message: expect.stringMatching(/already exists.*set SES_IDENTITIES=adopt/),
    });
    expect(created["tracking domain"]).toMatchObject({
      level: "ok",
      message: expect.stringMatching(/covered by the verified identity example\.com/),
    });
    const adopted = byCheck(await preflight({ ...SETTINGS, replyDomain: undefined, sesIdentities: "adopt" }, clients()));
    expect(adopted["identity example.com"]).toMatchObject({ level: "ok", message: expect.stringMatching(/will be adopted/) });
    const missing = byCheck(await preflight({ ...SETTINGS, sesIdentities: "adopt" }, clients()));
    expect(missing["identity reply.example.com"]).toMatchObject({
      level: "fail",
      message: expect.stringMatching(/SES_IDENTITIES=adopt but reply\.example\.com/),
    });
  });

  it("checks that the database answers", async () => {
    const refused = await checkDatabase("postgresql://u:p@127.0.0.1:1/db", 2_000);
    expect(refused).toMatchObject({ level: "fail", message: expect.stringMatching(/127\.0\.0\.1 does not answer/) });
    expect((await checkDatabase("not a url")).level).toBe("fail");
  });

  it.skipIf(!onServer)("accepts a database that answers", async () => {
    const db = await openTestDatabase();
    try {
      expect(await checkDatabase(db.url!)).toMatchObject({ level: "ok" });
    } finally {
      await db.close();
    }
  });
});
