/* The links the functions read at run time, as `sst deploy` would generate them. Every name
   here is declared in infra/ and linked to the functions that read it (infra/test checks it).
   Hand-written: sst.config.ts excludes this folder from SST's type generator (`types.ignore`),
   which would otherwise replace this file with a reference to its own root sst-env.d.ts. */
import "sst";

declare module "sst" {
  export interface Resource {
    DatabaseUrl: { type: "sst.sst.Secret"; value: string };
    SendQueue: { type: "sst.aws.Queue"; url: string };
    WebhookQueue: { type: "sst.aws.Queue"; url: string };
    Scheduling: { type: "sst.sst.Linkable"; groupName: string; roleArn: string; tickArn: string; deadLetterArn: string };
    Sending: {
      type: "sst.sst.Linkable";
      publicUrl: string;
      configurationSets: { none: string; opens: string; clicks: string; full: string };
    };
    Tracking: { type: "sst.sst.Linkable"; topicArns: string[]; inboundBucket: string };
  }
}
