import { PG_ARRAY_TYPE } from '../registry/sync-column';
import { SyncTable, syncTable, wireColumns } from '../registry/sync-tables';
import { keyedRows, KeyLookup } from '../sql/keyed-rows';
import { q } from '../sql/quote';
import { nextStampSql, SNAPSHOT_LAST_STAMP_SQL } from '../sync-clock';
import { WireRecord } from '../validation/validate-push-changes';

const arrayTypes = (table: SyncTable): string[] =>
  wireColumns(table).map((c) => (c === 'id' ? 'varchar[]' : PG_ARRAY_TYPE[table.columns[c].kind]));

/**
 * Where an upsert takes its stamp and tombstone flag from. `planned`: the transaction's write,
 * $2 the stamp and one "stored as a tombstone" flag per record after the column arrays.
 * `plain`: the one-statement push, the stamp of its "clock" CTE and every record live.
 */
type UpsertMode = 'planned' | 'plain';

/**
 * One table's upsert, INSERT ... SELECT FROM unnest(...), as a CTE of a push's write statement.
 * Parameters: $1 the device, then from `first` one array per wire column (and the flags).
 */
function upsertCte(table: SyncTable, first: number, mode: UpsertMode) {
  const columns = wireColumns(table);
  const types = mode === 'planned' ? [...arrayTypes(table), 'bool[]'] : arrayTypes(table);
  const unnestArgs = types.map((type, i) => `$${first + i}::${type}`).join(', ');
  const alias = [...columns, ...(mode === 'planned' ? ['__deleted'] : [])].map(q).join(', ');
  const from =
    mode === 'planned'
      ? `unnest(${unnestArgs}) AS t(${alias})`
      : `unnest(${unnestArgs}) AS t(${alias}) CROSS JOIN "clock"`;
  const stamp = mode === 'planned' ? '$2::int8' : '"clock"."stamp"';
  const deletedAt = mode === 'planned' ? 'CASE WHEN t."__deleted" THEN now() END' : 'NULL';
  const sql = `${q(`upsert_${table.name}`)} AS (
    INSERT INTO ${q(table.name)} ("device_id", ${columns.map(q).join(', ')}, "stamp", "deleted_at")
    SELECT $1::uuid, ${columns.map((c) => `t.${q(c)}`).join(', ')}, ${stamp}, ${deletedAt}
    FROM ${from}
    ON CONFLICT ("device_id", "id") DO UPDATE SET
      ${columns
        .slice(1)
        .map((c) => `${q(c)} = EXCLUDED.${q(c)}`)
        .join(', ')},
      "stamp" = EXCLUDED."stamp",
      "updated_at" = now(),
      "deleted_at" = COALESCE(${q(table.name)}."deleted_at", EXCLUDED."deleted_at"))`;
  return { sql, params: types.length };
}

/**
 * The upserts of `tables`, parameters numbered from `first`: each table's first parameter (its
 * ids) and the next free number.
 */
function upsertCtes(tables: readonly SyncTable[], first: number, mode: UpsertMode) {
  let next = first;
  const idsParam = new Map<SyncTable, number>();
  const ctes = tables.map((table) => {
    idsParam.set(table, next);
    const cte = upsertCte(table, next, mode);
    next += cte.params;
    return cte.sql;
  });
  return { ctes, idsParam, next };
}

/** One array per wire column (ids first), the shape the upserts' unnest(...) takes. */
export const columnArrays = (table: SyncTable, records: readonly WireRecord[]): unknown[] =>
  wireColumns(table).map((column) => records.map((record) => record[column]));

/**
 * Every table's upserts in one statement (one round trip): each CTE writes its own table and no
 * foreign key runs between the sync tables, so their order within the statement does not matter.
 * $1 the device, $2 the stamp, then each table's column arrays and tombstone flags.
 */
export function upsertSql(tables: readonly SyncTable[]): string {
  return `WITH ${upsertCtes(tables, 3, 'planned').ctes.join(',\n')}\nSELECT 1`;
}

/**
 * One table's part of the existence check (part 1 of the push's first statement); the wire
 * values come back as JSON (dates as numbers).
 */
export const existingSql = (table: SyncTable, idsParam: string, lookup: KeyLookup) =>
  `SELECT 1 AS "part", json_build_object('table', '${table.name}', 'stamp', "stamp",
            'deleted', "deleted_at" IS NOT NULL, 'values', json_build_object(${wireColumns(table)
              .map((c) => `'${c}', ${q(c)}`)
              .join(', ')}))::text AS "json"
   FROM ${keyedRows(table.name, 'id', `${idsParam}::varchar[]`, lookup)} AS "t"`;

/**
 * Marks the live rows whose `column` is one of $2 deleted, with stamp $3, and returns their ids.
 * The rows are found as keyedRows finds them, then updated by their physical address.
 */
export function tombstoneSql(table: SyncTable, column: string, lookup: KeyLookup): string {
  const found = keyedRows(table.name, column, '$2::varchar[]', lookup, 'ctid, "deleted_at"');
  return `UPDATE ${q(table.name)} AS "u" SET "deleted_at" = now(), "updated_at" = now(), "stamp" = $3
    FROM ${found} AS "f" WHERE "u".ctid = "f".ctid AND "f"."deleted_at" IS NULL
    RETURNING "u"."id"`;
}

/** Part 0 of the push's first statement: the clock row (none when the device is refused). */
export const CLOCK_PART = `SELECT 0 AS "part", json_build_array("last_stamp", "stamp", "fresh")::text AS "json" FROM "clock"`;

/** The parent tables the records of `tables` point at, in registry order. */
export const parentTables = (tables: readonly SyncTable[]): SyncTable[] => [
  ...new Set(
    tables.flatMap((table) => Object.values(table.parents).map((name) => syncTable(name)!)),
  ),
];

/**
 * The plain push in one statement, its own transaction: it writes only when the rules of the
 * contract leave nothing to decide (see PushWriter.applyPlain), and otherwise changes nothing.
 *
 * Parameters: $1 the device, $2 last_pulled_at, each table's column arrays (ids first), then per
 * parent table the ids its children point at outside this push. "plain" holds a row only when
 * - the device is active (the lock, as in sync-clock.ts) and its last_stamp in the statement's
 *   snapshot is the locked one (no push committed while this one waited: what it read is current);
 * - last_pulled_at was issued (not above the clock);
 * - no record it names exists as a tombstone or changed after last_pulled_at (no conflict, no
 *   replay, nothing for deletion to win over);
 * - every parent outside the push is a live record of the device (no orphan, no cascade).
 * Then "clock" advances the clock and the upserts write with its stamp; else all three are empty.
 * `lookup` is the shape of the checks' lookups by id (keyed-rows.ts).
 */
export function plainPushSql(tables: readonly SyncTable[], lookup: KeyLookup): string {
  const { ctes, idsParam, next } = upsertCtes(tables, 3, 'plain');
  const byId = (table: SyncTable, ids: string) => keyedRows(table.name, 'id', ids, lookup);
  const untouched = tables.map((table) => {
    const ids = `$${idsParam.get(table)}::varchar[]`;
    return `NOT EXISTS (SELECT 1 FROM ${byId(table, ids)} AS "t"
        WHERE "stamp" > $2::int8 OR "deleted_at" IS NOT NULL)`;
  });
  const parentsLive = parentTables(tables).map((parent, i) => {
    const ids = `$${next + i}::varchar[]`;
    return `(SELECT count(*) FROM ${byId(parent, ids)} AS "t"
        WHERE "deleted_at" IS NULL) = cardinality(${ids})`;
  });
  const conditions = [
    `"last_stamp" = ${SNAPSHOT_LAST_STAMP_SQL}`,
    `$2::int8 <= "last_stamp"`,
    ...untouched,
    ...parentsLive,
  ];
  return `WITH "locked" AS (
    SELECT "last_stamp" FROM "devices" WHERE "id" = $1 AND "revoked_at" IS NULL FOR UPDATE),
  "plain" AS (
    SELECT "last_stamp" FROM "locked"
    WHERE ${conditions.join('\n      AND ')}),
  "clock" AS (
    UPDATE "devices" AS "d" SET "last_stamp" = ${nextStampSql('"p"."last_stamp"')},
                                "last_seen_at" = now()
    FROM "plain" AS "p" WHERE "d"."id" = $1
    RETURNING "d"."last_stamp" AS "stamp")${ctes.map((cte) => `,\n  ${cte}`).join('')}
  SELECT json_build_array((SELECT "last_stamp" FROM "locked"), (SELECT "stamp" FROM "clock"))::text AS "json"`;
}
