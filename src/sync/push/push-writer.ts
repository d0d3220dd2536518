import { QueryRunner } from 'typeorm';
import { PG_ARRAY_TYPE } from '../registry/sync-column';
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

/** One table's part of the existence check; the wire values come back as JSON (dates as numbers). */
const existingSql = (table: SyncTable, idsParam: string) =>
  `SELECT '${table.name}' AS "table", "stamp"::text AS "stamp", "deleted_at" IS NOT NULL AS "deleted",
          json_build_object(${wireColumns(table)
            .map((c) => `'${c}', ${q(c)}`)
            .join(', ')}) AS "values"
   FROM ${q(table.name)} WHERE "device_id" = $1 AND "id" = ANY(${idsParam}::varchar[])`;

/** The write statement of each combination of tables a push touches, built on first use. */
const UPSERT_SQL = new Map<string, string>();

/** Reads, upserts and tombstones of one push; every statement is scoped by the device. */
export class PushWriter {
  constructor(
    private readonly runner: QueryRunner,
    private readonly deviceId: string,
  ) {}

  /** One query (a UNION ALL over the tables) for every id the push names or points at. */
  async loadExisting(ids: Map<SyncTable, Set<string>>): Promise<ExistingRows> {
    const existing: ExistingRows = new Map(
      [...ids.keys()].map((table) => [table, new Map<string, ExistingRow>()]),
    );
    const wanted = [...ids].filter(([, tableIds]) => tableIds.size > 0);
    if (wanted.length === 0) return existing;
    const found = await queryPrepared<{
      table: string;
      stamp: string;
      deleted: boolean;
      values: WireRecord;
    }>(
      this.runner,
      `sync_existing_${wanted.map(([table]) => table.name).join('_')}`,
      wanted.map(([table], i) => existingSql(table, `$${i + 2}`)).join('\nUNION ALL\n'),
      [this.deviceId, ...wanted.map(([, tableIds]) => [...tableIds])],
    );
    for (const { table, stamp, deleted, values } of found) {
      existing
        .get(syncTable(table)!)!
        .set(values.id as string, { stamp: Number(stamp), deleted, values });
    }
    return existing;
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
