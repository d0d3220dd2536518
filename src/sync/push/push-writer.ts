import { QueryRunner } from 'typeorm';
import { PG_ARRAY_TYPE } from '../registry/sync-column';
import { CLOCK_CTE, DeviceClock } from '../sync-clock';
import { queryPrepared } from '../sql/query-prepared';
import { SyncTable, syncTable, wireColumns } from '../registry/sync-tables';
import { WireRecord } from '../validation/validate-push-changes';
import { ExistingRow, ExistingRows, TablePlan } from './push-plan';

const q = (name: string) => `"${name}"`;

/**
 * One table's upsert, INSERT ... SELECT FROM unnest(...), as a CTE of the push's write statement.
 * Parameters: $1 the device, $2 the stamp, then from `first` one array per wire column and one
 * of "stored as a tombstone" flags.
 */
function upsertCte(table: SyncTable, first: number): { sql: string; params: number } {
  const columns = wireColumns(table);
  const types = columns.map((c) =>
    c === 'id' ? 'varchar[]' : PG_ARRAY_TYPE[table.columns[c].kind],
  );
  const unnestArgs = [...types, 'bool[]'].map((type, i) => `$${first + i}::${type}`).join(', ');
  const alias = [...columns, '__deleted'].map(q).join(', ');
  const sql = `${q(`upsert_${table.name}`)} AS (
    INSERT INTO ${q(table.name)} ("device_id", ${columns.map(q).join(', ')}, "stamp", "deleted_at")
    SELECT $1::uuid, ${columns.map((c) => `t.${q(c)}`).join(', ')}, $2::int8,
           CASE WHEN t."__deleted" THEN now() END
    FROM unnest(${unnestArgs}) AS t(${alias})
    ON CONFLICT ("device_id", "id") DO UPDATE SET
      ${columns
        .slice(1)
        .map((c) => `${q(c)} = EXCLUDED.${q(c)}`)
        .join(', ')},
      "stamp" = EXCLUDED."stamp",
      "updated_at" = now(),
      "deleted_at" = COALESCE(${q(table.name)}."deleted_at", EXCLUDED."deleted_at"))`;
  return { sql, params: types.length + 1 };
}

/**
 * Every table's upserts in one statement (one round trip): each CTE writes its own table and no
 * foreign key runs between the sync tables, so their order within the statement does not matter.
 */
function upsertSql(tables: readonly SyncTable[]): string {
  let next = 3;
  const ctes = tables.map((table) => {
    const cte = upsertCte(table, next);
    next += cte.params;
    return cte.sql;
  });
  return `WITH ${ctes.join(',\n')}\nSELECT 1`;
}

/**
 * One table's part of the existence check (part 1 of the push's first statement); the wire
 * values come back as JSON (dates as numbers).
 */
const existingSql = (table: SyncTable, idsParam: string) =>
  `SELECT 1 AS "part", json_build_object('table', '${table.name}', 'stamp', "stamp",
            'deleted', "deleted_at" IS NOT NULL, 'values', json_build_object(${wireColumns(table)
              .map((c) => `'${c}', ${q(c)}`)
              .join(', ')}))::text AS "json"
   FROM ${q(table.name)} WHERE "device_id" = $1 AND "id" = ANY(${idsParam}::varchar[])`;

/** Part 0 of the push's first statement: the clock row (none when the device is refused). */
const CLOCK_PART = `SELECT 0 AS "part", json_build_array("last_stamp", "stamp", "fresh")::text AS "json" FROM "clock"`;

type ExistingJson = { table: string; stamp: number; deleted: boolean; values: WireRecord };

function existingRows(ids: Map<SyncTable, Set<string>>, found: ExistingJson[]): ExistingRows {
  const existing: ExistingRows = new Map(
    [...ids.keys()].map((table) => [table, new Map<string, ExistingRow>()]),
  );
  for (const { table, stamp, deleted, values } of found) {
    existing.get(syncTable(table)!)!.set(values.id as string, { stamp, deleted, values });
  }
  return existing;
}

/** The write statement of each combination of tables a push touches, built on first use. */
const UPSERT_SQL = new Map<string, string>();

/** Reads, upserts and tombstones of one push; every statement is scoped by the device. */
export class PushWriter {
  constructor(
    private readonly runner: QueryRunner,
    private readonly deviceId: string,
  ) {}

  /**
   * The push's first statement: advances the device clock (locking the device row, see
   * sync-clock.ts) and reads every id the push names or points at, in one round trip. Should
   * another push of the device have committed while this one waited for the lock, the rows are
   * read again in a statement of their own, now that no other push can write them. Null when the
   * device is gone or revoked.
   */
  async lockAndLoad(
    ids: Map<SyncTable, Set<string>>,
  ): Promise<{ clock: DeviceClock; existing: ExistingRows } | null> {
    const wanted = [...ids].filter(([, tableIds]) => tableIds.size > 0);
    const key = wanted.map(([table]) => table.name).join('_');
    const parts = wanted.map(([table], i) => existingSql(table, `$${i + 2}`));
    const params = [this.deviceId, ...wanted.map(([, tableIds]) => [...tableIds])];
    const rows = await queryPrepared<{ part: number; json: string }>(
      this.runner,
      `sync_push_start_${key}`,
      `WITH ${CLOCK_CTE}\n${[CLOCK_PART, ...parts].join('\nUNION ALL\n')}`,
      params,
    );
    const clockRow = rows.find((row) => row.part === 0);
    if (!clockRow) return null;
    const [lastStamp, stamp, fresh] = JSON.parse(clockRow.json) as [number, number, boolean];
    const found =
      fresh || parts.length === 0
        ? rows.filter((row) => row.part === 1)
        : await queryPrepared<{ json: string }>(
            this.runner,
            `sync_existing_${key}`,
            parts.join('\nUNION ALL\n'),
            params,
          );
    return {
      clock: { lastStamp, stamp },
      existing: existingRows(
        ids,
        found.map((row) => JSON.parse(row.json) as ExistingJson),
      ),
    };
  }

  /**
   * Applies the plan with one stamp: every upsert in one statement, then tombstones for the
   * pushed deletions and the cascade to the children of everything deleted here, parents before
   * children.
   */
  async apply(plan: Map<SyncTable, TablePlan>, stamp: number): Promise<void> {
    await this.upsert(
      [...plan].filter(([, { upserts }]) => upserts.length > 0),
      stamp,
    );
    const deletedNow = new Map<string, string[]>();
    for (const [table, { deletes }] of plan) {
      const gone = [...deletes];
      if (deletes.length) await this.tombstone(table, 'id', deletes, stamp);
      for (const [column, parent] of Object.entries(table.parents)) {
        const parentIds = deletedNow.get(parent) ?? [];
        if (parentIds.length) gone.push(...(await this.tombstone(table, column, parentIds, stamp)));
      }
      deletedNow.set(table.name, gone);
    }
  }

  private async upsert(tables: Array<[SyncTable, TablePlan]>, stamp: number): Promise<void> {
    if (tables.length === 0) return;
    const name = `sync_upsert_${tables.map(([table]) => table.name).join('_')}`;
    let text = UPSERT_SQL.get(name);
    if (!text) UPSERT_SQL.set(name, (text = upsertSql(tables.map(([table]) => table))));
    const values: unknown[] = [this.deviceId, stamp];
    for (const [table, { upserts }] of tables) {
      for (const column of wireColumns(table))
        values.push(upserts.map(({ record }) => record[column]));
      values.push(upserts.map(({ deleted }) => deleted));
    }
    await queryPrepared(this.runner, name, text, values);
  }

  /** Marks live rows whose `column` is one of `ids` deleted; returns the ids it deleted. */
  private async tombstone(
    table: SyncTable,
    column: string,
    ids: string[],
    stamp: number,
  ): Promise<string[]> {
    const rows = await queryPrepared<{ id: string }>(
      this.runner,
      `sync_tombstone_${table.name}_${column}`,
      `UPDATE ${q(table.name)} SET "deleted_at" = now(), "updated_at" = now(), "stamp" = $3
       WHERE "device_id" = $1 AND ${q(column)} = ANY($2::varchar[]) AND "deleted_at" IS NULL
       RETURNING "id"`,
      [this.deviceId, ids, stamp],
    );
    return rows.map((row) => row.id);
  }
}
