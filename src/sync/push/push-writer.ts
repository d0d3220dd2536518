import { QueryRunner } from 'typeorm';
import { PG_ARRAY_TYPE } from '../registry/sync-column';
import { SYNC_TABLES, SyncTable, wireColumns } from '../registry/sync-tables';
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

/** node-postgres returns bigint as text; wire dates are numbers. */
function toWire(table: SyncTable, row: Record<string, unknown>): WireRecord {
  const record: WireRecord = { id: row.id as string };
  for (const [name, column] of Object.entries(table.columns)) {
    const value = row[name] as string | number | null;
    record[name] = column.kind === 'ms' && value !== null ? Number(value) : value;
  }
  return record;
}

const UPSERT_SQL = new Map(SYNC_TABLES.map((table) => [table, upsertSql(table)]));

/** Reads, upserts and tombstones of one push; every statement is scoped by the device. */
export class PushWriter {
  constructor(
    private readonly runner: QueryRunner,
    private readonly deviceId: string,
  ) {}

  /** One query per table for every id the push names or points at. */
  async loadExisting(ids: Map<SyncTable, Set<string>>): Promise<ExistingRows> {
    const existing: ExistingRows = new Map();
    for (const [table, tableIds] of ids) {
      const rows = new Map<string, ExistingRow>();
      existing.set(table, rows);
      if (tableIds.size === 0) continue;
      const found = (await this.runner.query(
        `SELECT "stamp", "deleted_at" IS NOT NULL AS "deleted", ${wireColumns(table).map(q).join(', ')}
         FROM ${q(table.name)} WHERE "device_id" = $1 AND "id" = ANY($2::varchar[])`,
        [this.deviceId, [...tableIds]],
      )) as Array<Record<string, string | number | boolean | null>>;
      for (const { stamp, deleted, ...values } of found) {
        rows.set(values.id as string, {
          stamp: Number(stamp),
          deleted: deleted === true,
          values: toWire(table, values),
        });
      }
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
    await this.runner.query(UPSERT_SQL.get(table)!, [
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
    const rows = (await this.runner.query(
      `UPDATE ${q(table.name)} SET "deleted_at" = now(), "updated_at" = now(), "stamp" = $3
       WHERE "device_id" = $1 AND ${q(column)} = ANY($2::varchar[]) AND "deleted_at" IS NULL
       RETURNING "id"`,
      [this.deviceId, ids, stamp],
    )) as [Array<{ id: string }>, number];
    return rows[0].map((row) => row.id);
  }
}
