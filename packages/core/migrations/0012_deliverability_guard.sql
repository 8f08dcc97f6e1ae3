ALTER TABLE "campaign" ADD COLUMN "max_bounce_rate" double precision DEFAULT 5 NOT NULL;--> statement-breakpoint
ALTER TABLE "campaign" ADD COLUMN "max_complaint_rate" double precision DEFAULT 0.3 NOT NULL;--> statement-breakpoint
ALTER TABLE "campaign" ADD COLUMN "paused_reason" jsonb;--> statement-breakpoint
ALTER TABLE "campaign" ADD COLUMN "guard_window_start" timestamp with time zone;