-- The rate limit moves from a counter row updated by every request to a per-key sequence read
-- with nextval (no row write on the hot path); the key row keeps the window bookkeeping.
DROP TABLE "api_rate_limit" CASCADE;--> statement-breakpoint
ALTER TABLE "api_key" ADD COLUMN "counter" regclass;--> statement-breakpoint
DO $$
DECLARE k record;
BEGIN
  FOR k IN SELECT id FROM api_key LOOP
    EXECUTE format('CREATE SEQUENCE IF NOT EXISTS %I', 'api_key_counter_' || k.id);
    UPDATE api_key SET counter = ('api_key_counter_' || k.id)::regclass WHERE id = k.id;
  END LOOP;
END $$;--> statement-breakpoint
ALTER TABLE "api_key" ALTER COLUMN "counter" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "api_key" ADD COLUMN "window_start" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "api_key" ADD COLUMN "window_seq" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "api_key" ADD COLUMN "prev_window_seq" bigint DEFAULT 0 NOT NULL;
