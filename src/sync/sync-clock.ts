import { QueryRunner } from 'typeorm';
import { NOW_MS_SQL } from '../devices/devices.service';

/**
 * The per-device hybrid clock kept on the device row (devices.last_stamp, epoch ms).
 *
 * A push locks the row (FOR UPDATE), so one device's pushes commit one at a time, and takes
 * `stamp = max(now, last_stamp + 1)`. A pull reads last_stamp in the same REPEATABLE READ
 * snapshot as the rows it returns and answers it as `timestamp`: a push that has not committed
 * when the pull's snapshot is taken is invisible to it *and* has a stamp above the timestamp the
 * pull returns, so the next pull picks it up. Wall-clock `now()` stamps cannot promise that.
 */
export async function lockDeviceClock(
  runner: QueryRunner,
  deviceId: string,
): Promise<{ lastStamp: number; nextStamp: number }> {
  const [row] = (await runner.query(
    `SELECT "last_stamp", GREATEST("last_stamp" + 1, ${NOW_MS_SQL}) AS "next_stamp"
     FROM "devices" WHERE "id" = $1 FOR UPDATE`,
    [deviceId],
  )) as Array<{ last_stamp: string; next_stamp: string }>;
  return { lastStamp: Number(row.last_stamp), nextStamp: Number(row.next_stamp) };
}

export async function saveDeviceClock(
  runner: QueryRunner,
  deviceId: string,
  stamp: number,
): Promise<void> {
  await runner.query(`UPDATE "devices" SET "last_stamp" = $2 WHERE "id" = $1`, [deviceId, stamp]);
}

export async function readDeviceClock(runner: QueryRunner, deviceId: string): Promise<number> {
  const [row] = (await runner.query(`SELECT "last_stamp" FROM "devices" WHERE "id" = $1`, [
    deviceId,
  ])) as Array<{
    last_stamp: string;
  }>;
  return Number(row.last_stamp);
}
