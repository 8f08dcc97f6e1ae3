CREATE TABLE "suppression" (
	"id" text PRIMARY KEY NOT NULL,
	"workspace_id" text NOT NULL,
	"email" text,
	"email_hash" text,
	"domain" text,
	"reason" text NOT NULL,
	"note" text,
	"source_campaign_id" text,
	"source_message_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "suppression_one_target" CHECK (("suppression"."email_hash" IS NULL) <> ("suppression"."domain" IS NULL))
);
--> statement-breakpoint
ALTER TABLE "suppression" ADD CONSTRAINT "suppression_workspace_id_workspace_id_fk" FOREIGN KEY ("workspace_id") REFERENCES "public"."workspace"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "suppression_email_key" ON "suppression" USING btree ("workspace_id","email_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "suppression_domain_key" ON "suppression" USING btree ("workspace_id","domain");--> statement-breakpoint
CREATE INDEX "suppression_workspace_created_idx" ON "suppression" USING btree ("workspace_id","created_at","id");--> statement-breakpoint
-- Contacts already unsubscribed, bounced or complained keep being suppressed once deleted.
INSERT INTO "suppression" ("id", "workspace_id", "email", "email_hash", "reason", "created_at")
SELECT 'sup_' || substr(md5(c.id), 1, 26), c.workspace_id, c.email, encode(sha256(convert_to(lower(c.email), 'UTF8')), 'hex'), c.status, c.updated_at
FROM "contact" c WHERE c.status IN ('unsubscribed', 'bounced', 'complained')
ON CONFLICT DO NOTHING;
