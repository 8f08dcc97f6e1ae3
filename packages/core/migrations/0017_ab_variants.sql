CREATE TABLE "ab_test_winner" (
	"campaign_id" text NOT NULL,
	"node_id" text NOT NULL,
	"variant_id" text NOT NULL,
	"metric" text NOT NULL,
	"decided_at" timestamp with time zone NOT NULL,
	"evidence" jsonb NOT NULL,
	CONSTRAINT "ab_test_winner_campaign_id_node_id_pk" PRIMARY KEY("campaign_id","node_id")
);
--> statement-breakpoint
CREATE TABLE "campaign_variant_stat" (
	"campaign_id" text NOT NULL,
	"node_id" text NOT NULL,
	"variant_id" text NOT NULL,
	"shard" smallint NOT NULL,
	"sent" integer DEFAULT 0 NOT NULL,
	"delivered" integer DEFAULT 0 NOT NULL,
	"opened" integer DEFAULT 0 NOT NULL,
	"clicked" integer DEFAULT 0 NOT NULL,
	"replied" integer DEFAULT 0 NOT NULL,
	"bounced" integer DEFAULT 0 NOT NULL,
	"unsubscribed" integer DEFAULT 0 NOT NULL,
	"complained" integer DEFAULT 0 NOT NULL,
	"failed" integer DEFAULT 0 NOT NULL,
	"human_opened" integer DEFAULT 0 NOT NULL,
	"machine_opened" integer DEFAULT 0 NOT NULL,
	"human_clicked" integer DEFAULT 0 NOT NULL,
	"machine_clicked" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "campaign_variant_stat_campaign_id_node_id_variant_id_shard_pk" PRIMARY KEY("campaign_id","node_id","variant_id","shard")
);
--> statement-breakpoint
ALTER TABLE "message" ADD COLUMN "variant_id" text;--> statement-breakpoint
ALTER TABLE "ab_test_winner" ADD CONSTRAINT "ab_test_winner_campaign_id_campaign_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."campaign"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "campaign_variant_stat" ADD CONSTRAINT "campaign_variant_stat_campaign_id_campaign_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."campaign"("id") ON DELETE cascade ON UPDATE no action;