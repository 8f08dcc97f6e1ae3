ALTER TABLE "campaign_contact" ADD COLUMN "email_account_id" text;--> statement-breakpoint
ALTER TABLE "campaign" ADD COLUMN "email_account_ids" text[];--> statement-breakpoint
-- A campaign sent from one account sends from a list of one.
UPDATE "campaign" SET "email_account_ids" = ARRAY["email_account_id"];--> statement-breakpoint
ALTER TABLE "campaign" ALTER COLUMN "email_account_ids" SET NOT NULL;--> statement-breakpoint
-- Contacts already in a sequence keep the account that sent them their first email.
UPDATE "campaign_contact" cc SET "email_account_id" = c."email_account_id" FROM "campaign" c
  WHERE c."id" = cc."campaign_id" AND cc."last_sent_at" IS NOT NULL;--> statement-breakpoint
ALTER TABLE "email_account" ADD COLUMN "warmup_enabled" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "email_account" ADD COLUMN "warmup_start_per_day" integer DEFAULT 5 NOT NULL;--> statement-breakpoint
ALTER TABLE "email_account" ADD COLUMN "warmup_increment_per_day" integer DEFAULT 3 NOT NULL;--> statement-breakpoint
ALTER TABLE "email_account" ADD COLUMN "warmup_started_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "email_account" ADD COLUMN "min_seconds_between_emails" integer DEFAULT 0 NOT NULL;