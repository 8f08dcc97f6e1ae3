-- Rate-limit counters are worthless after a crash: skip the WAL (and its fsync) on the hot
-- path of every API request. drizzle-kit has no notion of UNLOGGED, hence this custom step.
ALTER TABLE "api_rate_limit" SET UNLOGGED;
