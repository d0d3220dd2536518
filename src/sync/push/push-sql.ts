import { PG_ARRAY_TYPE } from '../registry/sync-column';
import { SyncTable, wireColumns } from '../registry/sync-tables';
import { q } from '../sql/quote';
import { WireRecord } from '../validation/validate-push-changes';

/**
 * One table's upsert, INSERT ... SELECT FROM unnest(...), as a CTE of the push's write statement.
 * Parameters: $1 the account, $2 the stamp, then from `first` one array per wire column and one
 * "stored as a tombstone" flag per record. Deletion wins: a tombstone stays one.
 */
function upsertCte(table: SyncTable, first: number): { sql: string; params: number } {
  const columns = wireColumns(table);
  const types = [
    ...columns.map((c) => (c === 'id' ? 'varchar[]' : PG_ARRAY_TYPE[table.columns[c].kind])),
    'bool[]',
  ];
  const unnestArgs = types.map((type, i) => `$${first + i}::${type}`).join(', ');
  const alias = [...columns, '__deleted'].map(q).join(', ');
  const sql = `${q(`upsert_${table.name}`)} AS (
    INSERT INTO ${q(table.name)} ("account_id", ${columns.map(q).join(', ')}, "stamp", "deleted_at")
    SELECT $1::uuid, ${columns.map((c) => `t.${q(c)}`).join(', ')}, $2::int8,
           CASE WHEN t."__deleted" THEN now() END
    FROM unnest(${unnestArgs}) AS t(${alias})
    ON CONFLICT ("account_id", "id") DO UPDATE SET
      ${columns
        .slice(1)
        .map((c) => `${q(c)} = EXCLUDED.${q(c)}`)
        .join(', ')},
      "stamp" = EXCLUDED."stamp",
      "updated_at" = now(),
      "deleted_at" = COALESCE(${q(table.name)}."deleted_at", EXCLUDED."deleted_at"))`;
  return { sql, params: types.length };
}

/** One array per wire column (ids first), the shape the upserts' unnest(...) takes. */
export const columnArrays = (table: SyncTable, records: readonly WireRecord[]): unknown[] =>
  wireColumns(table).map((column) => records.map((record) => record[column]));

/**
 * Every table's upserts in one statement (one round trip): each CTE writes its own table and no
 * foreign key runs between the sync tables, so their order within the statement does not matter.
 * $1 the account, $2 the stamp, then each table's column arrays and tombstone flags.
 */
export function upsertSql(tables: readonly SyncTable[]): string {
  let next = 3;
  const ctes = tables.map((table) => {
    const cte = upsertCte(table, next);
    next += cte.params;
    return cte.sql;
  });
  return `WITH ${ctes.join(',\n')}\nSELECT 1`;
}

/**
 * One table's part of the push's first statement: the stored rows among the ids in `idsParam`,
 * with their stamp, tombstone and wire values as JSON (dates as numbers).
 */
export const existingSql = (table: SyncTable, idsParam: string) =>
  `SELECT 1 AS "part", json_build_object('table', '${table.name}', 'stamp', "stamp",
            'deleted', "deleted_at" IS NOT NULL, 'values', json_build_object(${wireColumns(table)
              .map((c) => `'${c}', ${q(c)}`)
              .join(', ')}))::text AS "json"
   FROM ${q(table.name)} WHERE "account_id" = $1 AND "id" = ANY(${idsParam}::varchar[])`;

/** Marks the live rows whose `column` is one of $2 deleted, with stamp $3, and returns their ids. */
export const tombstoneSql = (table: SyncTable, column: string) =>
  `UPDATE ${q(table.name)} SET "deleted_at" = now(), "updated_at" = now(), "stamp" = $3
   WHERE "account_id" = $1 AND ${q(column)} = ANY($2::varchar[]) AND "deleted_at" IS NULL
   RETURNING "id"`;

/** Part 0 of the push's first statement: the clock row. */
export const CLOCK_PART = `SELECT 0 AS "part", json_build_array("last_stamp", "stamp", "purged_stamp", "fresh")::text AS "json" FROM "clock"`;
