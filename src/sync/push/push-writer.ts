import { QueryRunner } from 'typeorm';
import { PG_ARRAY_TYPE } from '../registry/sync-column';
import { queryPrepared } from '../sql/query-prepared';
import { SYNC_TABLES, SyncTable, syncTable, wireColumns } from '../registry/sync-tables';
import { WireRecord } from '../validation/validate-push-changes';
import { ExistingRow, ExistingRows, TablePlan } from './push-plan';

const q = (name: string) => `"${name}"`;

/** One statement per table, built once from the registry: INSERT ... SELECT FROM unnest(...). */
function upsertSql(table: SyncTable): string {
  const columns = wireColumns(table);
  const types = columns.map((c) =>
    c === 'id' ? 'varchar[]' : PG_ARRAY_TYPE[table.columns[c].kind],
  );
  const unnestArgs = [...types, 'bool[]'].map((type, i) => `$${i + 3}::${type}`).join(', ');
  const alias = [...columns, '__deleted'].map(q).join(', ');
  return `
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
      "deleted_at" = COALESCE(${q(table.name)}."deleted_at", EXCLUDED."deleted_at")`;
}

/** One table's part of the existence check; the wire values come back as JSON (dates as numbers). */
const existingSql = (table: SyncTable, idsParam: string) =>
  `SELECT '${table.name}' AS "table", "stamp"::text AS "stamp", "deleted_at" IS NOT NULL AS "deleted",
          json_build_object(${wireColumns(table)
            .map((c) => `'${c}', ${q(c)}`)
            .join(', ')}) AS "values"
   FROM ${q(table.name)} WHERE "device_id" = $1 AND "id" = ANY(${idsParam}::varchar[])`;

const UPSERT_SQL = new Map(SYNC_TABLES.map((table) => [table, upsertSql(table)]));

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
   * Applies the plan with one stamp, parents before children: upserts, then tombstones for the
   * pushed deletions, then the cascade to the children of everything deleted here.
   */
  async apply(plan: Map<SyncTable, TablePlan>, stamp: number): Promise<void> {
    const deletedNow = new Map<string, string[]>();
    for (const [table, { upserts, deletes }] of plan) {
      if (upserts.length) await this.upsert(table, upserts, stamp);
      const gone = [...deletes];
      if (deletes.length) await this.tombstone(table, 'id', deletes, stamp);
      for (const [column, parent] of Object.entries(table.parents)) {
        const parentIds = deletedNow.get(parent) ?? [];
        if (parentIds.length) gone.push(...(await this.tombstone(table, column, parentIds, stamp)));
      }
      deletedNow.set(table.name, gone);
    }
  }

  private async upsert(
    table: SyncTable,
    upserts: TablePlan['upserts'],
    stamp: number,
  ): Promise<void> {
    const columnArrays = wireColumns(table).map((column) =>
      upserts.map(({ record }) => record[column]),
    );
    await queryPrepared(this.runner, `sync_upsert_${table.name}`, UPSERT_SQL.get(table)!, [
      this.deviceId,
      stamp,
      ...columnArrays,
      upserts.map(({ deleted }) => deleted),
    ]);
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
