ALTER TABLE "campaign_contact" ADD COLUMN "hold_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "campaign" ADD COLUMN "holidays" jsonb;--> statement-breakpoint
ALTER TABLE "campaign" ADD COLUMN "skip_dates" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "campaign" ADD COLUMN "out_of_office_hold_days" integer DEFAULT 7 NOT NULL;