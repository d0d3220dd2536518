import { NOW_MS_SQL } from '../devices/devices.service';

/**
 * The per-device hybrid clock kept on the device row (devices.last_stamp, epoch ms).
 *
 * A push locks the row (FOR UPDATE), so one device's pushes commit one at a time, and takes
 * `stamp = max(now, last_stamp + 1)`, saved on the row in the same statement. A pull reads
 * last_stamp in the same snapshot as the rows it returns (pull-reader.ts) and answers it as
 * `timestamp`: a push that has not committed when the pull's snapshot is taken is invisible to
 * it *and* has a stamp above the timestamp the pull returns, so the next pull picks it up.
 * Wall-clock `now()` stamps cannot promise that.
 *
 * The same statement is the push's device check (no row: the device is gone or revoked) and,
 * since it writes the row anyway, records the device as seen.
 */

/**
 * The clock as a CTE named "clock" ($1 the device), so that the push's first statement can also
 * read the rows the push touches. It returns the clock before and after, and `fresh`: whether
 * last_stamp in the statement's snapshot is the one the lock returned. The snapshot is taken
 * before the statement waits for the lock, so when another push of the device committed
 * meanwhile, what the statement read predates that push; every push moves last_stamp up, so an
 * unchanged last_stamp means none did.
 */
export const CLOCK_CTE = `"clock" AS (
    UPDATE "devices" AS "d" SET "last_stamp" = GREATEST("o"."last_stamp" + 1, ${NOW_MS_SQL}),
                                "last_seen_at" = now()
    FROM (SELECT "last_stamp" FROM "devices" WHERE "id" = $1 FOR UPDATE) AS "o"
    WHERE "d"."id" = $1 AND "d"."revoked_at" IS NULL
    RETURNING "o"."last_stamp" AS "last_stamp", "d"."last_stamp" AS "stamp",
              "o"."last_stamp" = (SELECT "last_stamp" FROM "devices" WHERE "id" = $1) AS "fresh")`;

export type DeviceClock = {
  /** The clock before this push: the highest last_pulled_at this server has issued. */
  lastStamp: number;
  /** This push's stamp. */
  stamp: number;
};
