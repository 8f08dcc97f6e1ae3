CREATE TABLE "ses_account" (
	"id" text PRIMARY KEY NOT NULL,
	"sending_enabled" boolean NOT NULL,
	"enforcement_status" text,
	"checked_at" timestamp with time zone NOT NULL,
	"changed_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "campaign" ADD COLUMN "stop_on_company_reply" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "email_account" ADD COLUMN "max_bounce_rate" double precision DEFAULT 5 NOT NULL;--> statement-breakpoint
ALTER TABLE "email_account" ADD COLUMN "max_complaint_rate" double precision DEFAULT 0.3 NOT NULL;--> statement-breakpoint
ALTER TABLE "email_account" ADD COLUMN "paused_reason" jsonb;--> statement-breakpoint
ALTER TABLE "email_account" ADD COLUMN "paused_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "email_account" ADD COLUMN "guard_window_start" timestamp with time zone;