ALTER TABLE "campaign_contact" ADD COLUMN "waiting_for" text;--> statement-breakpoint
ALTER TABLE "campaign_contact" ADD COLUMN "waiting_since" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "campaign_contact" ADD COLUMN "path" jsonb DEFAULT '[]'::jsonb NOT NULL;