ALTER TABLE "message" ADD COLUMN "human_opened_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "message" ADD COLUMN "machine_opened_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "message" ADD COLUMN "human_clicked_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "message" ADD COLUMN "machine_clicked_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "campaign_stat_bucket" ADD COLUMN "human_opened" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "campaign_stat_bucket" ADD COLUMN "machine_opened" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "campaign_stat_bucket" ADD COLUMN "human_clicked" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "campaign_stat_bucket" ADD COLUMN "machine_clicked" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "campaign_stat" ADD COLUMN "human_opened" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "campaign_stat" ADD COLUMN "machine_opened" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "campaign_stat" ADD COLUMN "human_clicked" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "campaign_stat" ADD COLUMN "machine_clicked" integer DEFAULT 0 NOT NULL;