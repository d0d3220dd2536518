import { Client } from 'pg';
import { COLUMNS, TABLES, TableName, TableRecords } from './records';

/**
 * Direct SQL against the app's database: the bulk seed (far faster than pushing a million
 * records through the API), and the raw-SQL lower bounds the server's figures are held against.
 */

const q = (name: string) => `"${name}"`;

export type SeedDevice = { id: string; lastStamp: number };

export async function deviceClock(client: Client, deviceId: string): Promise<number> {
  const { rows } = await client.query<{ last_stamp: string }>(
    'SELECT "last_stamp" FROM "devices" WHERE "id" = $1',
    [deviceId],
  );
  return Number(rows[0].last_stamp);
}

/** Background devices straight into `devices` (their clock starts now, as registration does). */
export async function insertDevices(client: Client, howMany: number): Promise<SeedDevice[]> {
  const { rows } = await client.query<{ id: string; last_stamp: string }>(
    `INSERT INTO "devices" ("name", "platform", "last_stamp")
     SELECT 'bench-bulk-' || i, 'bench', (extract(epoch from clock_timestamp()) * 1000)::bigint
     FROM generate_series(1, $1::int) AS i
     RETURNING "id", "last_stamp"`,
    [howMany],
  );
  return rows.map((row) => ({ id: row.id, lastStamp: Number(row.last_stamp) }));
}

/*
 * The same shapes as buildGames() in records.ts, generated in the database: per device, game n
 * has players, rounds and scores j = 0..perGame-1 (child number n * perGame + j). Every stamp is
 * below the device's clock, spread over its last 1,000 seconds, as a history of pushes would be.
 * $1 devices, $2 their clocks, $3 games per device, $4 children per game, $5 a base date.
 */
const DEVICES = `WITH "d" AS (
    SELECT *, $5::int8 AS "base" FROM unnest($1::uuid[], $2::int8[]) AS d("device_id", "last_stamp"))`;
const PER_GAME = `FROM "d" CROSS JOIN generate_series(0, $3::int - 1) AS "n"`;
const PER_CHILD = `${PER_GAME} CROSS JOIN generate_series(0, $4::int - 1) AS "j"`;
const STAMP = `"d"."last_stamp" - 1 - ("n" % 1000) * 1000`;
const ID = (letter: string, number: string) => `'${letter}' || lpad((${number})::text, 15, '0')`;
const CHILD = `"n" * $4::int + "j"`;
const STARTED = `"d"."base" + "n" * 60000`;

const SEED_SQL: Record<TableName, string> = {
  games: `${DEVICES}
    INSERT INTO "games" ("device_id", "id", "name", "target_score", "status", "winner_id", "started_at", "ended_at", "stamp")
    SELECT "d"."device_id", ${ID('g', '"n"')}, 'Game night ' || "n", 500,
           CASE WHEN "n" % 3 = 0 THEN 'finished' ELSE 'active' END,
           CASE WHEN "n" % 3 = 0 THEN ${ID('p', '"n" * $4::int')} END,
           ${STARTED}, CASE WHEN "n" % 3 = 0 THEN ${STARTED} + 3600000 END, ${STAMP}
    ${PER_GAME}`,
  game_players: `${DEVICES}
    INSERT INTO "game_players" ("device_id", "id", "game_id", "name", "position", "current_total", "stamp")
    SELECT "d"."device_id", ${ID('p', CHILD)}, ${ID('g', '"n"')}, 'Player ' || ("j" + 1), "j" + 1,
           ("n" + "j" * 7) % 50, ${STAMP}
    ${PER_CHILD}`,
  rounds: `${DEVICES}
    INSERT INTO "rounds" ("device_id", "id", "game_id", "round_number", "caller_id", "created_at", "stamp")
    SELECT "d"."device_id", ${ID('r', CHILD)}, ${ID('g', '"n"')}, "j" + 1, ${ID('p', CHILD)},
           ${STARTED} + ("j" + 1) * 60000, ${STAMP}
    ${PER_CHILD}`,
  scores: `${DEVICES}
    INSERT INTO "scores" ("device_id", "id", "round_id", "player_id", "raw_score", "bonus_applied", "final_score", "total_after", "stamp")
    SELECT "d"."device_id", ${ID('s', CHILD)}, ${ID('r', CHILD)}, ${ID('p', CHILD)},
           ("n" + "j" * 7) % 50, CASE WHEN "j" = 0 THEN 10 ELSE 0 END,
           ("n" + "j" * 7) % 50 + CASE WHEN "j" = 0 THEN 10 ELSE 0 END, ("n" + "j" * 7) % 50, ${STAMP}
    ${PER_CHILD}`,
};

/** Seeds `gamesPerDevice` games of 1 + 3 * perGame records for each device; returns the row count. */
export async function seedGames(
  client: Client,
  devices: readonly SeedDevice[],
  gamesPerDevice: number,
  perGame: number,
): Promise<number> {
  let rows = 0;
  // Chunks of devices keep each statement's memory bounded on a 1M-row seed.
  const chunk = Math.max(1, Math.floor(200_000 / (gamesPerDevice * (1 + 3 * perGame))));
  for (let i = 0; i < devices.length; i += chunk) {
    const part = devices.slice(i, i + chunk);
    await client.query('BEGIN');
    for (const table of TABLES) {
      const result = await client.query(SEED_SQL[table], [
        part.map((device) => device.id),
        part.map((device) => device.lastStamp),
        gamesPerDevice,
        perGame,
        Date.UTC(2025, 10, 1),
      ]);
      rows += result.rowCount ?? 0;
    }
    await client.query('COMMIT');
  }
  return rows;
}

/** Live rows of one device over the synced tables. */
export async function deviceRows(client: Client, deviceId: string): Promise<number> {
  const counts = TABLES.map(
    (table) => `(SELECT count(*) FROM ${q(table)} WHERE "device_id" = $1 AND "deleted_at" IS NULL)`,
  ).join(' + ');
  const { rows } = await client.query<{ rows: string }>(`SELECT ${counts} AS "rows"`, [deviceId]);
  return Number(rows[0].rows);
}

/**
 * VACUUM as well as ANALYZE, then CHECKPOINT: after a bulk seed, autovacuum would otherwise set hint bits and the
 * visibility map during the next phases, on the same two cores, as a production database that
 * grew over months would not.
 */
export async function vacuumAnalyze(client: Client): Promise<void> {
  for (const table of ['devices', ...TABLES]) await client.query(`VACUUM (ANALYZE) ${q(table)}`);
  // And the seed's dirty pages written out now, not by the checkpointer in the middle of a phase.
  await client.query('CHECKPOINT').catch(() => undefined);
}

export async function countRows(client: Client): Promise<{ rows: number; devices: number }> {
  const counts = TABLES.map((table) => `(SELECT count(*) FROM ${q(table)})`).join(' + ');
  const { rows } = await client.query<{ rows: string; devices: string }>(
    `SELECT ${counts} AS "rows", (SELECT count(*) FROM "devices") AS "devices"`,
  );
  return { rows: Number(rows[0].rows), devices: Number(rows[0].devices) };
}

/**
 * The lower bound of a first pull: one query returning every live record of the device as the
 * pull's `changes` JSON (json_agg), as text, as a server would have to produce it at least.
 */
const RAW_PULL_SQL = `SELECT json_build_object(${TABLES.map((table) => {
  const fields = COLUMNS[table].map(([column]) => `'${column}', ${q(column)}`).join(', ');
  return `'${table}', json_build_object(
      'created', '[]'::json,
      'updated', COALESCE((SELECT json_agg(json_build_object(${fields})) FROM ${q(table)}
                           WHERE "device_id" = $1 AND "deleted_at" IS NULL), '[]'::json),
      'deleted', '[]'::json)`;
}).join(',\n')})::text AS "changes"`;

export async function rawFirstPull(
  client: Client,
  deviceId: string,
): Promise<{ ms: number; bytes: number }> {
  const startedAt = performance.now();
  const { rows } = await client.query<{ changes: string }>(RAW_PULL_SQL, [deviceId]);
  const elapsed = performance.now() - startedAt;
  return { ms: elapsed, bytes: Buffer.byteLength(rows[0].changes) };
}

/** The lower bound of a push: one multi-row upsert per table, one transaction. */
const RAW_UPSERT_SQL = Object.fromEntries(
  TABLES.map((table) => {
    const columns = COLUMNS[table].map(([column]) => column);
    const unnest = COLUMNS[table].map(([, type], i) => `$${i + 3}::${type}`).join(', ');
    const updates = columns
      .slice(1)
      .map((column) => `${q(column)} = EXCLUDED.${q(column)}`)
      .join(', ');
    return [
      table,
      `INSERT INTO ${q(table)} ("device_id", ${columns.map(q).join(', ')}, "stamp")
       SELECT $1::uuid, ${columns.map((column) => `"t".${q(column)}`).join(', ')}, $2::int8
       FROM unnest(${unnest}) AS "t"(${columns.map(q).join(', ')})
       ON CONFLICT ("device_id", "id") DO UPDATE SET ${updates},
         "stamp" = EXCLUDED."stamp", "updated_at" = now()`,
    ];
  }),
) as Record<TableName, string>;

export async function rawPush(
  client: Client,
  deviceId: string,
  stamp: number,
  records: TableRecords,
): Promise<number> {
  // Column arrays are built before the clock starts, as the server gets its records parsed.
  const params = TABLES.map((table) => [
    deviceId,
    stamp,
    ...COLUMNS[table].map(([column]) => records[table].map((record) => record[column])),
  ]);
  const startedAt = performance.now();
  await client.query('BEGIN');
  for (const [i, table] of TABLES.entries()) {
    if (records[table].length) await client.query(RAW_UPSERT_SQL[table], params[i]);
  }
  await client.query('COMMIT');
  return performance.now() - startedAt;
}

export type IncrementalPlan = {
  plan: string;
  usesDeviceStampIndex: boolean;
  /** The plan node that reads IDX_<table>_device_id_stamp, if any. */
  scan?: string;
};

/** The plan of the per-table incremental query, and whether it reads the (device_id, stamp) index. */
export async function explainIncremental(
  client: Client,
  deviceId: string,
  since: number,
): Promise<Record<TableName, IncrementalPlan>> {
  const plans: Partial<Record<TableName, IncrementalPlan>> = {};
  for (const table of TABLES) {
    const columns = COLUMNS[table].map(([column]) => q(column)).join(', ');
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN (ANALYZE, BUFFERS) SELECT ${columns}, "deleted_at" FROM ${q(table)}
       WHERE "device_id" = $1 AND "stamp" > $2`,
      [deviceId, since],
    );
    const plan = rows.map((row) => row['QUERY PLAN']).join('\n');
    const index = `"?IDX_${table}_device_id_stamp"?`;
    const scan = new RegExp(
      `(Index Scan|Index Only Scan) using ${index}|Bitmap Index Scan on ${index}`,
    );
    plans[table] = { plan, usesDeviceStampIndex: scan.test(plan), scan: scan.exec(plan)?.[0] };
  }
  return plans as Record<TableName, IncrementalPlan>;
}
