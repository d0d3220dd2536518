import { NOW_MS_SQL } from '../devices/devices.service';

/**
 * The per-device hybrid clock kept on the device row (devices.last_stamp, epoch ms).
 *
 * A push locks the row (FOR UPDATE) as its transaction's first statement, so one device's pushes
 * commit one at a time, and takes `stamp = max(now, last_stamp + 1)`, saved on the row in the
 * same statement. A pull reads last_stamp in the same snapshot as the rows it returns (its
 * REPEATABLE READ transaction) and answers it as `timestamp`: a push that has not committed when
 * the pull's snapshot is taken is invisible to it *and* has a stamp above the timestamp the pull
 * returns, so the next pull picks it up. Wall-clock `now()` stamps cannot promise that.
 */

/**
 * last_stamp as the statement's snapshot saw it ($1 the device). The snapshot is taken before a
 * statement waits for the device row's lock, so when another push of the device committed
 * meanwhile, the locked value differs from this one; every push moves last_stamp up, so an equal
 * value means none did and what the statement read is current.
 */
const SNAPSHOT_LAST_STAMP_SQL = `(SELECT "last_stamp" FROM "devices" WHERE "id" = $1)`;

/**
 * The clock as a CTE named "clock" ($1 the device), so that the push's first statement can also
 * read the rows the push touches. It returns the clock before and after, and `fresh`: whether
 * the snapshot's last_stamp is the locked one (see SNAPSHOT_LAST_STAMP_SQL). No row when the
 * device is revoked.
 */
export const CLOCK_CTE = `"clock" AS (
    UPDATE "devices" AS "d" SET "last_stamp" = GREATEST("o"."last_stamp" + 1, ${NOW_MS_SQL})
    FROM (SELECT "last_stamp" FROM "devices" WHERE "id" = $1 FOR UPDATE) AS "o"
    WHERE "d"."id" = $1 AND "d"."revoked_at" IS NULL
    RETURNING "o"."last_stamp" AS "last_stamp", "d"."last_stamp" AS "stamp",
              "o"."last_stamp" = ${SNAPSHOT_LAST_STAMP_SQL} AS "fresh")`;

export type DeviceClock = {
  /** The clock before this push: the highest last_pulled_at this server has issued. */
  lastStamp: number;
  /** This push's stamp. */
  stamp: number;
};
