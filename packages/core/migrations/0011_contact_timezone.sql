ALTER TABLE "campaign" ADD COLUMN "timezone_mode" text DEFAULT 'campaign' NOT NULL;--> statement-breakpoint
ALTER TABLE "contact" ADD COLUMN "timezone" text;