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
      // packages/functions/sst-env.d.ts is the hand-written link contract the code compiles
      // against (infra/test checks it against infra): SST's type generator must not overwrite it.
      types: { ignore: ["packages/functions"] },
      providers: { aws: { region: (process.env.AWS_REGION ?? "us-east-1") as "us-east-1" } },
    };
  },
  async run() {
    const { settings, lookUpAccount, trackingDomainStatus } = await import("./infra/config");
    // Ask AWS first what exists (SES identities and their verification), before building anything.
    await lookUpAccount();
    const tracking = trackingDomainStatus();
    if (tracking.note) console.warn(`TRACKING_DOMAIN ${tracking.note}`);
    await import("./infra/database");
    const { sendDlq, sendQueue } = await import("./infra/queue");
    const { webhookDlq, webhookQueue } = await import("./infra/outbound-webhooks");
    const { scheduleGroup, tickDlq } = await import("./infra/scheduler");
    const { inboundMail, sesEvents, sesInbound } = await import("./infra/events");
    const { configurationSets, dkimRecords, emailIdentity } = await import("./infra/email");
    const { api } = await import("./infra/api");
    await import("./infra/sender");
    await import("./infra/sweeper");
    await import("./infra/webhooks");
    const { sesEventsDlq, sesEventsQueue } = await import("./infra/ses-events");
    const { inbound } = await import("./infra/inbound");
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
      // What the runbook (docs/operations.md) needs to inspect and redrive failed work.
      deadLetters: {
        send: { arn: sendDlq.arn, url: sendDlq.url, redriveTo: sendQueue.arn },
        tick: { arn: tickDlq.arn, url: tickDlq.url },
        webhooks: { arn: webhookDlq.arn, url: webhookDlq.url, redriveTo: webhookQueue.arn },
        sesEvents: { arn: sesEventsDlq.arn, url: sesEventsDlq.url, redriveTo: sesEventsQueue.arn },
      },
      ...(inboundMail && inbound ? { inbound: { bucket: inboundMail.name, ruleSet: inbound.ruleSetName } } : {}),
      ...(tracking.note ? { trackingDomain: tracking.note } : tracking.apply ? { trackingDomain: `${tracking.apply} (applied)` } : {}),
      // Add these CNAME records to the sending domain's DNS: SES verifies the domain with them.
      ...(emailIdentity && settings.emailDomain ? { dkimRecords: dkimRecords(emailIdentity, settings.emailDomain) } : {}),
      ...(settings.replyDomain ? { replyMx: `${settings.replyDomain} MX 10 inbound-smtp.${settings.region}.amazonaws.com` } : {}),
      ...(settings.trackingDomain ? { trackingCname: `${settings.trackingDomain} CNAME r.${settings.region}.awstrack.me` } : {}),
    };
  },
});
