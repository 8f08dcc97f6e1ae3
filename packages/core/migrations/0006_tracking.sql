CREATE TABLE "unmatched_event" (
	"provider_key" text NOT NULL,
	"kind" text NOT NULL,
	"reason" text NOT NULL,
	"payload" jsonb NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "unmatched_event_key" ON "unmatched_event" USING btree ("provider_key");