/// <reference path="./.sst/platform/config.d.ts" />

/**
 * One `sst deploy --stage <stage>` brings up the whole system. Resources live in infra/, one
 * file per concern; this file only orders them. No top-level imports: SST forbids them here.
 * Deploy-time settings (API_DOMAIN, EMAIL_DOMAIN, ...): infra/config.ts, docs/operations.md.
 * Checked offline by infra/test (stand-ins of SST's globals record what is built).
 */
export default $config({
  app(input) {
    const production = input?.stage === "production";
    return {
      name: "fluenzr",
      home: "aws",
      // Production keeps what `retain` keeps on removal and refuses `sst remove` altogether.
      removal: production ? "retain" : "remove",
      protect: production,
      providers: { aws: { region: (process.env.AWS_REGION ?? "us-east-1") as "us-east-1" } },
    };
  },
  async run() {
    const { settings } = await import("./infra/config");
    await import("./infra/database");
    const { sendQueue } = await import("./infra/queue");
    const { scheduleGroup } = await import("./infra/scheduler");
    const { sesEvents, sesInbound } = await import("./infra/events");
    const { configurationSets, dkimRecords, emailIdentity } = await import("./infra/email");
    const { api } = await import("./infra/api");
    await import("./infra/sender");
    await import("./infra/sweeper");
    await import("./infra/webhooks");
    await import("./infra/inbound");
    const { alarmTopic } = await import("./infra/alarms");

    return {
      api: api.url,
      sendQueue: sendQueue.url,
      scheduleGroup: scheduleGroup.name,
      sesEventsTopic: sesEvents.arn,
      ...(sesInbound ? { sesInboundTopic: sesInbound.arn } : {}),
      configurationSets: {
        none: configurationSets.none.configurationSetName,
        opens: configurationSets.opens.configurationSetName,
        clicks: configurationSets.clicks.configurationSetName,
        full: configurationSets.full.configurationSetName,
      },
      alarmsTopic: alarmTopic.arn,
      // Add these CNAME records to the sending domain's DNS: SES verifies the domain with them.
      ...(emailIdentity && settings.emailDomain ? { dkimRecords: dkimRecords(emailIdentity, settings.emailDomain) } : {}),
      ...(settings.replyDomain ? { replyMx: `${settings.replyDomain} MX 10 inbound-smtp.${settings.region}.amazonaws.com` } : {}),
      ...(settings.trackingDomain ? { trackingCname: `${settings.trackingDomain} CNAME r.${settings.region}.awstrack.me` } : {}),
    };
  },
});
