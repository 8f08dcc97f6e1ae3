import * as Database from "@fluenzr/core/database";

/**
 * Count the round trips to the database from now on (Database.roundTrips: every statement a
 * server connection sends, BEGIN and COMMIT included; PGlite counts its top-level statements).
 */
export function roundTripCounter(): { count: () => number; reset: () => void } {
  let start = Database.roundTrips();
  return {
    count: () => Database.roundTrips() - start,
    reset: () => {
      start = Database.roundTrips();
    },
  };
}
