import { QueryRunner } from 'typeorm';
import { NOW_MS_SQL } from '../devices/devices.service';
import { queryPrepared } from './sql/query-prepared';

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
 * The same statement is the push's device check (null: the device is gone or revoked) and, since
 * it writes the row anyway, records the device as seen.
 */
export async function advanceDeviceClock(
  runner: QueryRunner,
  deviceId: string,
): Promise<{ lastStamp: number; stamp: number } | null> {
  const rows = await queryPrepared<{ last_stamp: string; stamp: string }>(
    runner,
    'sync_clock',
    `UPDATE "devices" AS "d" SET "last_stamp" = GREATEST("o"."last_stamp" + 1, ${NOW_MS_SQL}),
                                 "last_seen_at" = now()
     FROM (SELECT "last_stamp" FROM "devices" WHERE "id" = $1 FOR UPDATE) AS "o"
     WHERE "d"."id" = $1 AND "d"."revoked_at" IS NULL
     RETURNING "o"."last_stamp" AS "last_stamp", "d"."last_stamp" AS "stamp"`,
    [deviceId],
  );
  if (rows.length === 0) return null;
  return { lastStamp: Number(rows[0].last_stamp), stamp: Number(rows[0].stamp) };
}
