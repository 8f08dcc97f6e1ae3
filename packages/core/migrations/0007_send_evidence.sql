CREATE TABLE "ses_probe" (
	"id" text PRIMARY KEY NOT NULL,
	"email_account_id" text NOT NULL,
	"ses_message_id" text,
	"created_at" timestamp with time zone NOT NULL,
	"send_event_at" timestamp with time zone,
	"error" text
);
--> statement-breakpoint
ALTER TABLE "message" ADD COLUMN "send_event_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "ses_probe_account_created_idx" ON "ses_probe" USING btree ("email_account_id","created_at");