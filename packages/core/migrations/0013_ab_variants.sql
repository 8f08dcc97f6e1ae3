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
ALTER TABLE "campaign_stat" ADD COLUMN "variant_id" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "campaign_stat" DROP CONSTRAINT "campaign_stat_campaign_id_node_id_shard_pk";--> statement-breakpoint
ALTER TABLE "campaign_stat" ADD CONSTRAINT "campaign_stat_campaign_id_node_id_variant_id_shard_pk" PRIMARY KEY("campaign_id","node_id","variant_id","shard");--> statement-breakpoint
ALTER TABLE "message" ADD COLUMN "variant_id" text;--> statement-breakpoint
ALTER TABLE "ab_test_winner" ADD CONSTRAINT "ab_test_winner_campaign_id_campaign_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."campaign"("id") ON DELETE cascade ON UPDATE no action;