/**
 * The PostgreSQL side of the benchmark: the server (DATABASE_URL's, or the app's embedded one in a
 * temp folder), a fresh database per app, the bulk seed, and the raw-SQL lower bounds the app's
 * figures are held against. Every statement is built from the table registry.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { freePort } from '../scripts/free-port';
import { EmbeddedPostgresServer } from '../src/database/embedded/embedded-postgres.server';
import { PG_ARRAY_TYPE } from '../src/sync/registry/sync-column';
import { IdMaker, Records, SYNC_TABLES, SyncTable, buildGames, wireColumns } from './records';

/**
 * The column that says whose a row is: `account_id`, or `device_id` in builds from before
 * accounts (so that an A/B can run against one of those).
 */
export async function ownerColumn(sql: Client): Promise<string> {
  const { rows } = await sql.query<{ name: string }>(
    `SELECT column_name AS "name" FROM information_schema.columns
     WHERE table_name = $1 AND column_name IN ('account_id', 'device_id')`,
    [SYNC_TABLES[0].name],
  );
  return rows[0].name;
}

async function query(url: string, sql: string): Promise<string> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ value?: string }>(sql);
    return rows[0]?.value ?? '';
  } finally {
    await client.end();
  }
}

/** DATABASE_URL's server, or else a throwaway embedded cluster as the app would start it. */
export async function startPostgres() {
  let url = process.env.DATABASE_URL;
  let stop = async () => {};
  if (!url) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sync-bench-'));
    fs.chmodSync(dir, 0o755); // as root, PostgreSQL runs as `postgres` and must enter it
    const embedded = await EmbeddedPostgresServer.start({
      dataDir: path.join(dir, 'pg'),
      port: await freePort(),
      persistent: false,
    });
    url = embedded.url;
    stop = async () => {
      await embedded.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    };
  }
  const version = await query(url, 'SELECT current_setting($$server_version$$) AS value');
  return { url, kind: process.env.DATABASE_URL ? 'DATABASE_URL' : 'embedded', version, stop };
}

let databases = 0;

/** A fresh database on `serverUrl`, dropped by `drop()`. */
export async function createDatabase(serverUrl: string) {
  const name = `bench_${process.pid}_${Date.now()}_${databases++}`;
  await query(serverUrl, `CREATE DATABASE "${name}"`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () => query(serverUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).then(() => {}),
  };
}

const q = (name: string) => `"${name}"`;
const arrayType = (table: SyncTable, column: string) =>
  column === 'id' ? 'varchar[]' : PG_ARRAY_TYPE[table.columns[column].kind];

/**
 * One multi-row upsert of a table from column arrays. `perRow`: $1 and $2 are arrays (an owner
 * and a stamp per row, for the seed); otherwise one owner and one stamp (a push).
 */
function upsertSql(table: SyncTable, perRow: boolean, owner: string): string {
  const columns = wireColumns(table);
  const arrays = columns.map((column, i) => `$${i + 3}::${arrayType(table, column)}`);
  const [ownerValue, stamp] = perRow ? ['"t"."o"', '"t"."s"'] : ['$1::uuid', '$2::int8'];
  const unnest = perRow ? ['$1::uuid[]', '$2::int8[]', ...arrays] : arrays;
  const names = perRow ? ['o', 's', ...columns] : columns;
  return `INSERT INTO ${q(table.name)} (${q(owner)}, ${columns.map(q).join(', ')}, "stamp")
    SELECT ${ownerValue}, ${columns.map((column) => `"t".${q(column)}`).join(', ')}, ${stamp}
    FROM unnest(${unnest.join(', ')}) AS "t"(${names.map(q).join(', ')})
    ON CONFLICT (${q(owner)}, "id") DO UPDATE SET
      ${columns.map((column) => `${q(column)} = EXCLUDED.${q(column)}`).join(', ')},
      "stamp" = EXCLUDED."stamp", "updated_at" = now()`;
}

const columnArrays = (table: SyncTable, records: Records) =>
  wireColumns(table).map((column) => records[table.name].map((record) => record[column]));

/** An owner of rows and a stamp at most its clock. */
export type SeedOwner = { owner: string; stamp: number };

/**
 * Writes `games` games of 10 records for each owner straight into the tables, stamped below the
 * owner's clock (`stamp`, spread over its last 1,000 s) as a history of pushes would be.
 */
export async function seedGames(
  sql: Client,
  column: string,
  owners: SeedOwner[],
  games: number,
  ids: IdMaker,
) {
  // About 10k games (100k records) a transaction keeps each statement's memory bounded.
  const perChunk = Math.max(1, Math.floor(10_000 / games));
  for (let i = 0; i < owners.length; i += perChunk) {
    const chunk = owners.slice(i, i + perChunk);
    const records = buildGames(chunk.length * games, 3, ids);
    await sql.query('BEGIN');
    for (const table of SYNC_TABLES) {
      const rows = records[table.name];
      const perOwner = rows.length / chunk.length;
      const owner = (k: number) => chunk[Math.floor(k / perOwner)];
      await sql.query(upsertSql(table, true, column), [
        rows.map((_, k) => owner(k).owner),
        rows.map((_, k) => owner(k).stamp - 1 - (k % 1000) * 1000),
        ...columnArrays(table, records),
      ]);
    }
    await sql.query('COMMIT');
  }
}

/**
 * Statistics for the planner, as autovacuum would have them on a production database (the CI
 * PostgreSQL runs with autovacuum off), and the seed's pages written out now rather than by a
 * checkpoint in the middle of a measurement.
 */
export async function analyze(sql: Client): Promise<void> {
  await sql.query('VACUUM (ANALYZE)');
  await sql.query('CHECKPOINT').catch(() => undefined); // needs a superuser, helps only
}

/** The lower bound of a first pull: every live record of the owner as `changes` JSON text. */
const rawPullSql = (owner: string) =>
  `SELECT json_build_object(${SYNC_TABLES.map((table) => {
    const fields = wireColumns(table).map((column) => `'${column}', ${q(column)}`);
    return `'${table.name}', json_build_object('created', '[]'::json, 'deleted', '[]'::json,
    'updated', COALESCE((SELECT json_agg(json_build_object(${fields.join(', ')}))
      FROM ${q(table.name)} WHERE ${q(owner)} = $1 AND "deleted_at" IS NULL), '[]'::json))`;
  }).join(',\n')})::text AS "changes"`;

/** Milliseconds of the raw first pull. */
export async function rawFirstPull(sql: Client, column: string, owner: string): Promise<number> {
  const statement = rawPullSql(column);
  const startedAt = performance.now();
  await sql.query(statement, [owner]);
  return performance.now() - startedAt;
}

/** Milliseconds of the raw push: one multi-row upsert per table, in one transaction. */
export async function rawPush(
  sql: Client,
  column: string,
  owner: SeedOwner,
  records: Records,
): Promise<number> {
  // Built before the clock starts, as the server gets its records parsed.
  const params = SYNC_TABLES.map((table) => [
    owner.owner,
    owner.stamp,
    ...columnArrays(table, records),
  ]);
  const statements = SYNC_TABLES.map((table) => upsertSql(table, false, column));
  const startedAt = performance.now();
  await sql.query('BEGIN');
  for (const [i, statement] of statements.entries()) await sql.query(statement, params[i]);
  await sql.query('COMMIT');
  return performance.now() - startedAt;
}

/** Rows in the synced tables. */
export async function syncedRows(sql: Client): Promise<number> {
  const counts = SYNC_TABLES.map((table) => `(SELECT count(*) FROM ${q(table.name)})`);
  const { rows } = await sql.query<{ n: string }>(`SELECT ${counts.join(' + ')} AS "n"`);
  return Number(rows[0].n);
}
