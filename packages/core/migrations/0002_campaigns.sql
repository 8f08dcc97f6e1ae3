CREATE TABLE "campaign_contact" (
	"campaign_id" text NOT NULL,
	"contact_id" text NOT NULL,
	"workspace_id" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"current_node_id" text,
	"next_run_at" timestamp with time zone,
	"claimed_at" timestamp with time zone,
	"claim_id" text,
	"last_sent_at" timestamp with time zone,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "campaign_contact_campaign_id_contact_id_pk" PRIMARY KEY("campaign_id","contact_id")
);
--> statement-breakpoint
CREATE TABLE "campaign" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"status" text DEFAULT 'draft' NOT NULL,
	"email_account_id" text NOT NULL,
	"send_days" text[] NOT NULL,
	"send_hours_start" integer NOT NULL,
	"send_hours_end" integer NOT NULL,
	"timezone" text NOT NULL,
	"max_emails_per_hour" integer NOT NULL,
	"workflow" jsonb,
	"total_contacts" integer DEFAULT 0 NOT NULL,
	"pause_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"paused_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	"archived_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "campaign_stat_bucket" (
	"campaign_id" text NOT NULL,
	"bucket" timestamp with time zone NOT NULL,
	"shard" smallint NOT NULL,
	"sent" integer DEFAULT 0 NOT NULL,
	"delivered" integer DEFAULT 0 NOT NULL,
	"opened" integer DEFAULT 0 NOT NULL,
	"clicked" integer DEFAULT 0 NOT NULL,
	"replied" integer DEFAULT 0 NOT NULL,
	"bounced" integer DEFAULT 0 NOT NULL,
	"unsubscribed" integer DEFAULT 0 NOT NULL,
	"complained" integer DEFAULT 0 NOT NULL,
	"failed" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "campaign_stat_bucket_campaign_id_bucket_shard_pk" PRIMARY KEY("campaign_id","bucket","shard")
);
--> statement-breakpoint
CREATE TABLE "campaign_stat" (
	"campaign_id" text NOT NULL,
	"node_id" text NOT NULL,
	"shard" smallint NOT NULL,
	"sent" integer DEFAULT 0 NOT NULL,
	"delivered" integer DEFAULT 0 NOT NULL,
	"opened" integer DEFAULT 0 NOT NULL,
	"clicked" integer DEFAULT 0 NOT NULL,
	"replied" integer DEFAULT 0 NOT NULL,
	"bounced" integer DEFAULT 0 NOT NULL,
	"unsubscribed" integer DEFAULT 0 NOT NULL,
	"complained" integer DEFAULT 0 NOT NULL,
	"failed" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "campaign_stat_campaign_id_node_id_shard_pk" PRIMARY KEY("campaign_id","node_id","shard")
);
--> statement-breakpoint
ALTER TABLE "campaign_contact" ADD CONSTRAINT "campaign_contact_campaign_id_campaign_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."campaign"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "campaign_contact" ADD CONSTRAINT "campaign_contact_contact_id_contact_id_fk" FOREIGN KEY ("contact_id") REFERENCES "public"."contact"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "campaign" ADD CONSTRAINT "campaign_workspace_id_workspace_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspace"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "campaign" ADD CONSTRAINT "campaign_email_account_id_email_account_id_fk" FOREIGN KEY ("email_account_id") REFERENCES "public"."email_account"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "campaign_stat_bucket" ADD CONSTRAINT "campaign_stat_bucket_campaign_id_campaign_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."campaign"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "campaign_stat" ADD CONSTRAINT "campaign_stat_campaign_id_campaign_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."campaign"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "campaign_contact_due_idx" ON "campaign_contact" USING btree ("campaign_id","next_run_at") WHERE next_run_at IS NOT NULL AND claimed_at IS NULL;--> statement-breakpoint
CREATE INDEX "campaign_contact_open_idx" ON "campaign_contact" USING btree ("campaign_id") WHERE status IN ('pending', 'in_progress');--> statement-breakpoint
CREATE INDEX "campaign_contact_claimed_idx" ON "campaign_contact" USING btree ("claimed_at") WHERE claimed_at IS NOT NULL;--> statement-breakpoint
CREATE INDEX "campaign_contact_list_idx" ON "campaign_contact" USING btree ("campaign_id","status","created_at");--> statement-breakpoint
CREATE INDEX "campaign_contact_contact_idx" ON "campaign_contact" USING btree ("contact_id");--> statement-breakpoint
CREATE INDEX "campaign_workspace_created_idx" ON "campaign" USING btree ("workspace_id","created_at","id");--> statement-breakpoint
CREATE INDEX "campaign_workspace_updated_idx" ON "campaign" USING btree ("workspace_id","updated_at","id");--> statement-breakpoint
CREATE INDEX "campaign_workspace_name_idx" ON "campaign" USING btree ("workspace_id","name","id");--> statement-breakpoint
CREATE INDEX "campaign_workspace_status_idx" ON "campaign" USING btree ("workspace_id","status","created_at","id");--> statement-breakpoint
CREATE INDEX "campaign_workspace_started_idx" ON "campaign" USING btree ("workspace_id","started_at","id");--> statement-breakpoint
CREATE INDEX "campaign_active_idx" ON "campaign" USING btree ("id") WHERE status = 'active';