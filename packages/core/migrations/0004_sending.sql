CREATE TABLE "event" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"campaign_id" text NOT NULL,
	"contact_id" text NOT NULL,
	"message_id" text,
	"node_id" text,
	"type" text NOT NULL,
	"occurred_at" timestamp with time zone NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"provider_key" text
);
--> statement-breakpoint
CREATE TABLE "message" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"campaign_id" text NOT NULL,
	"contact_id" text NOT NULL,
	"node_id" text NOT NULL,
	"email_account_id" text NOT NULL,
	"to_email" text NOT NULL,
	"subject" text NOT NULL,
	"status" text DEFAULT 'sending' NOT NULL,
	"ses_message_id" text,
	"unsubscribe_token_hash" text NOT NULL,
	"error" text,
	"created_at" timestamp with time zone NOT NULL,
	"sent_at" timestamp with time zone,
	"delivered_at" timestamp with time zone,
	"opened_at" timestamp with time zone,
	"clicked_at" timestamp with time zone,
	"replied_at" timestamp with time zone,
	"bounced_at" timestamp with time zone,
	"complained_at" timestamp with time zone,
	"unsubscribed_at" timestamp with time zone,
	"failed_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "message" ADD CONSTRAINT "message_campaign_id_campaign_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."campaign"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "event_provider_key" ON "event" USING btree ("provider_key");--> statement-breakpoint
CREATE INDEX "event_feed_idx" ON "event" USING btree ("campaign_id","occurred_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "event_feed_type_idx" ON "event" USING btree ("campaign_id","type","occurred_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "event_feed_contact_idx" ON "event" USING btree ("campaign_id","contact_id","occurred_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "message_once_key" ON "message" USING btree ("campaign_id","contact_id","node_id");--> statement-breakpoint
CREATE UNIQUE INDEX "message_ses_id_key" ON "message" USING btree ("ses_message_id");--> statement-breakpoint
CREATE UNIQUE INDEX "message_unsubscribe_key" ON "message" USING btree ("unsubscribe_token_hash");--> statement-breakpoint
CREATE INDEX "message_campaign_created_idx" ON "message" USING btree ("campaign_id","created_at");--> statement-breakpoint
CREATE INDEX "message_sending_idx" ON "message" USING btree ("created_at") WHERE status = 'sending';--> statement-breakpoint
CREATE INDEX "message_contact_idx" ON "message" USING btree ("contact_id");