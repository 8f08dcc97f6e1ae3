DROP INDEX "campaign_contact_open_idx";--> statement-breakpoint
DROP INDEX "campaign_contact_claimed_idx";--> statement-breakpoint
ALTER TABLE "message" ADD COLUMN "claim_id" text;--> statement-breakpoint
CREATE INDEX "message_account_created_idx" ON "message" USING btree ("email_account_id","created_at");--> statement-breakpoint
CREATE INDEX "campaign_contact_claimed_idx" ON "campaign_contact" USING btree ("campaign_id","claimed_at") WHERE claimed_at IS NOT NULL;