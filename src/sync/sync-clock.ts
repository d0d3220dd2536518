import { NOW_MS_SQL } from '../devices/devices.service';

/**
 * The per-account hybrid clock kept on the account row (accounts.last_stamp, epoch ms).
 *
 * A push locks the row (FOR UPDATE) as its transaction's first statement, so the pushes of all
 * the account's devices commit one at a time, and takes `stamp = max(now, last_stamp + 1)`, saved
 * on the row in the same statement. A pull reads last_stamp in the same snapshot as the rows it
 * returns (its REPEATABLE READ transaction) and answers it as `timestamp`: a push that has not
 * committed when the pull's snapshot is taken is invisible to it *and* has a stamp above the
 * timestamp the pull returns, so the next pull (of any device of the account) picks it up.
 * Wall-clock `now()` stamps cannot promise that.
 */

/**
 * last_stamp as the statement's snapshot saw it ($1 the account). The snapshot is taken before a
 * statement waits for the account row's lock, so when another push of the account committed
 * meanwhile, the locked value differs from this one; every push moves last_stamp up, so an equal
 * value means none did and what the statement read is current.
 */
const SNAPSHOT_LAST_STAMP_SQL = `(SELECT "last_stamp" FROM "accounts" WHERE "id" = $1)`;

/**
 * The clock as a CTE named "clock" ($1 the account), so that the push's first statement can also
 * read the rows the push touches. It returns the clock before and after, the account's
 * purged_stamp (read under the lock, so current), and `fresh`: whether
 * the snapshot's last_stamp is the locked one (see SNAPSHOT_LAST_STAMP_SQL).
 */
export const CLOCK_CTE = `"clock" AS (
    UPDATE "accounts" AS "a" SET "last_stamp" = GREATEST("o"."last_stamp" + 1, ${NOW_MS_SQL})
    FROM (SELECT "last_stamp" FROM "accounts" WHERE "id" = $1 FOR UPDATE) AS "o"
    WHERE "a"."id" = $1
    RETURNING "o"."last_stamp" AS "last_stamp", "a"."last_stamp" AS "stamp",
              "a"."purged_stamp" AS "purged_stamp",
              "o"."last_stamp" = ${SNAPSHOT_LAST_STAMP_SQL} AS "fresh")`;

export type AccountClock = {
  /** The clock before this push: the highest last_pulled_at this server has issued. */
  lastStamp: number;
  /** This push's stamp. */
  stamp: number;
  /** The newest stamp of the tombstones purged from the account. */
  purgedStamp: number;
};
