import { QueryRunner } from 'typeorm';
import { queryEachRow } from '../sql/query-each-row';
import { SYNC_TABLES, SyncTable, wireColumns } from '../registry/sync-tables';
import { q } from '../sql/quote';
import { PullBody } from './pull-body';

/**
 * The pull as one statement (so one snapshot) returning one row per piece of the response:
 * part 0 is the device clock and last_seen_at, then for table i (registry order) part 2i+1 holds
 * its live rows changed since, one JSON object each, and part 2i+2 the ids of its tombstones (none
 * when read from 0). Parameters: $1 the device, then one "since" stamp per table. Live rows go in
 * `updated` (never `created`: the client may hold them already).
 *
 * Rows rather than one json_agg value: node-postgres would hold a 15 MB value in a receive
 * buffer grown by doubling, then as a string, then as the response's bytes (3-4x the response);
 * rows arrive as small messages and are packed straight into the response's chunks.
 */
function pullSql(): string {
  // Part 0 is also the device check: no row when the device is gone or revoked.
  const parts = [
    `SELECT 0 AS "part", json_build_array("last_stamp", "last_seen_at")::text AS "json"
     FROM "devices" WHERE "id" = $1 AND "revoked_at" IS NULL`,
  ];
  SYNC_TABLES.forEach((table: SyncTable, i) => {
    const since = `$${i + 2}::int8`;
    const fields = wireColumns(table)
      .map((c) => `'${c}', ${q(c)}`)
      .join(', ');
    const from = `FROM ${q(table.name)} WHERE "device_id" = $1 AND "stamp" > ${since}`;
    parts.push(
      `SELECT ${2 * i + 1}, json_build_object(${fields})::text ${from} AND "deleted_at" IS NULL`,
      `SELECT ${2 * i + 2}, to_json("id")::text ${from} AND "deleted_at" IS NOT NULL AND ${since} > 0`,
    );
  });
  return parts.join('\nUNION ALL\n');
}

export const PULL_SQL = pullSql();

export type PullResult = {
  /** The response, `{ changes, timestamp }`, as chunks of JSON text. */
  chunks: Buffer[];
  bytes: number;
  /** The device clock read with the rows; null when the device is gone or revoked. */
  timestamp: number | null;
  lastSeenAt: Date | null;
  records: number;
};

/** `sinceByTable` maps a table name to the stamp to read from (0: every live row). */
export async function readPull(
  runner: QueryRunner,
  deviceId: string,
  sinceByTable: Map<string, number>,
): Promise<PullResult> {
  const body = new PullBody(SYNC_TABLES.map((table) => table.name));
  let timestamp: number | null = null;
  let lastSeenAt: Date | null = null;
  await queryEachRow<[number, string]>(
    runner,
    'sync_pull',
    PULL_SQL,
    [deviceId, ...SYNC_TABLES.map((table) => sinceByTable.get(table.name) ?? 0)],
    ([part, json]) => {
      if (part === 0) {
        const [stamp, seen] = JSON.parse(json) as [number, string | null];
        timestamp = stamp;
        lastSeenAt = seen === null ? null : new Date(seen);
      } else {
        body.add(part - 1, json);
      }
    },
  );
  const records = body.records;
  const chunks = timestamp === null ? [] : body.finish(timestamp);
  return {
    chunks,
    bytes: chunks.reduce((sum, chunk) => sum + chunk.length, 0),
    timestamp,
    lastSeenAt,
    records,
  };
}
