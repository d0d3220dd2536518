import { QueryRunner } from 'typeorm';
import { queryPrepared } from '../sql/query-prepared';
import { SYNC_TABLES, SyncTable, wireColumns } from '../registry/sync-tables';

const q = (name: string) => `"${name}"`;

/**
 * The whole pull response, built as JSON text by PostgreSQL in one statement:
 * no entity hydration, and bigint dates come out as JSON numbers. Parameters: $1 the device,
 * then one "since" stamp per table (registry order). Live rows changed since go in `updated`
 * (never `created`: the client may hold them already), tombstones in `deleted`; a table read
 * from 0 (first sync, or added by a client migration) lists no deletions.
 */
function pullSql(): string {
  const parts = SYNC_TABLES.map((table: SyncTable, i) => {
    const since = `$${i + 2}::int8`;
    const fields = wireColumns(table)
      .map((c) => `'${c}', ${q(c)}`)
      .join(', ');
    const from = `FROM ${q(table.name)} WHERE "device_id" = $1 AND "stamp" > ${since}`;
    return {
      // One scan per array; the counts come from the same scans (for the logs).
      cte: `u${i} AS (SELECT json_agg(json_build_object(${fields})) AS "rows", count(*) AS "n" ${from} AND "deleted_at" IS NULL),
        d${i} AS (SELECT json_agg("id") AS "rows", count(*) AS "n" ${from} AND "deleted_at" IS NOT NULL AND ${since} > 0)`,
      field: `'${table.name}', json_build_object('created', '[]'::json,
        'updated', COALESCE(u${i}."rows", '[]'::json), 'deleted', COALESCE(d${i}."rows", '[]'::json))`,
      count: `u${i}."n" + d${i}."n"`,
      alias: `u${i}, d${i}`,
    };
  });
  // The device clock is read by the same statement, so from the same snapshot as the rows.
  return `WITH "clock" AS (SELECT "last_stamp" FROM "devices" WHERE "id" = $1),
    ${parts.map((p) => p.cte).join(',\n')}
    SELECT json_build_object(
             'changes', json_build_object(${parts.map((p) => p.field).join(', ')}),
             'timestamp', "clock"."last_stamp")::text AS "body",
           "clock"."last_stamp"::text AS "timestamp",
           (${parts.map((p) => p.count).join(' + ')})::int AS "records"
    FROM "clock", ${parts.map((p) => p.alias).join(', ')}`;
}

const PULL_SQL = pullSql();

export type PullResult = { body: string; timestamp: number; records: number };

/**
 * The whole pull response as JSON text, `{ changes, timestamp }`. `sinceByTable` maps a table
 * name to the stamp to read from (0: every live row).
 */
export async function readPull(
  runner: QueryRunner,
  deviceId: string,
  sinceByTable: Map<string, number>,
): Promise<PullResult> {
  const [row] = await queryPrepared<{ body: string; timestamp: string; records: number }>(
    runner,
    'sync_pull',
    PULL_SQL,
    [deviceId, ...SYNC_TABLES.map((table) => sinceByTable.get(table.name) ?? 0)],
  );
  return { body: row.body, timestamp: Number(row.timestamp), records: row.records };
}
