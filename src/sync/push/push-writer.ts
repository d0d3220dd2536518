import { QueryRunner } from 'typeorm';
import { SyncTable, syncTable } from '../registry/sync-tables';
import { KeyLookup, lookupName } from '../sql/keyed-rows';
import { queryPrepared } from '../sql/query-prepared';
import { CLOCK_CTE, DeviceClock } from '../sync-clock';
import { PushChanges, WireRecord } from '../validation/validate-push-changes';
import { ExistingRow, ExistingRows, TablePlan } from './push-plan';
import {
  CLOCK_PART,
  columnArrays,
  existingSql,
  parentTables,
  plainPushSql,
  tombstoneSql,
  upsertSql,
} from './push-sql';

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

/** The write statements of each combination of tables a push touches, built on first use. */
const STATEMENTS = new Map<string, string>();
const statement = (name: string, build: () => string): string => {
  let text = STATEMENTS.get(name);
  if (!text) STATEMENTS.set(name, (text = build()));
  return text;
};

/** What the one-statement push did: wrote everything, or nothing and left it to the transaction. */
export type PlainOutcome = 'applied' | 'declined' | 'refused';

/**
 * Reads, upserts and tombstones of one push; every statement is scoped by the device. `lookup`:
 * how its statements find rows by id (keyed-rows.ts), which follows the connections' plan mode.
 */
export class PushWriter {
  constructor(
    private readonly runner: QueryRunner,
    private readonly deviceId: string,
    private readonly lookup: KeyLookup,
  ) {}

  /**
   * A push without deletions, in one statement and so one round trip, with no BEGIN/COMMIT:
   * PostgreSQL runs it as a transaction of its own. It writes only where the contract's rules
   * have nothing to decide (planPush would upsert every record live, with no conflict, replay,
   * orphan or cascade; push-sql.ts lists the conditions) and otherwise writes nothing at all:
   * 'declined' sends the push through the transaction (lockAndLoad, planPush, apply), which
   * answers every case. 'refused': the device is gone or revoked.
   */
  async applyPlain(changes: PushChanges, lastPulledAt: number): Promise<PlainOutcome> {
    const pushed = [...changes]
      .map(([table, { created, updated }]) => [table, [...created, ...updated]] as const)
      .filter(([, records]) => records.length > 0);
    const tables = pushed.map(([table]) => table);
    const values: unknown[] = [this.deviceId, lastPulledAt];
    for (const [table, records] of pushed) values.push(...columnArrays(table, records));
    // Parents the push carries are records of the push (checked as such); the rest must exist.
    const pushedIds = new Map(
      pushed.map(([table, records]) => [table.name, new Set(records.map((r) => r.id as string))]),
    );
    for (const parent of parentTables(tables)) {
      const outside = new Set<string>();
      for (const [table, records] of pushed) {
        for (const [column, parentName] of Object.entries(table.parents)) {
          if (parentName !== parent.name) continue;
          for (const record of records) {
            const id = record[column] as string;
            if (!pushedIds.get(parentName)?.has(id)) outside.add(id);
          }
        }
      }
      values.push([...outside]);
    }
    const name = this.name(`sync_push_plain_${tables.map((table) => table.name).join('_')}`);
    const [row] = await queryPrepared<{ json: string }>(
      this.runner,
      name,
      statement(name, () => plainPushSql(tables, this.lookup)),
      values,
    );
    const [lastStamp, stamp] = JSON.parse(row.json) as [number | null, number | null];
    if (lastStamp === null) return 'refused';
    return stamp === null ? 'declined' : 'applied';
  }

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
    const parts = wanted.map(([table], i) => existingSql(table, `$${i + 2}`, this.lookup));
    const params = [this.deviceId, ...wanted.map(([, tableIds]) => [...tableIds])];
    const rows = await queryPrepared<{ part: number; json: string }>(
      this.runner,
      this.name(`sync_push_start_${key}`),
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
            this.name(`sync_existing_${key}`),
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
    const text = statement(name, () => upsertSql(tables.map(([table]) => table)));
    const values: unknown[] = [this.deviceId, stamp];
    for (const [table, { upserts }] of tables) {
      values.push(
        ...columnArrays(
          table,
          upserts.map(({ record }) => record),
        ),
      );
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
      this.name(`sync_tombstone_${table.name}_${column}`),
      tombstoneSql(table, column, this.lookup),
      [this.deviceId, ids, stamp],
    );
    return rows.map((row) => row.id);
  }

  /** Statements that look rows up by id exist in both shapes, under different names. */
  private name(base: string): string {
    return lookupName(base, this.lookup);
  }
}
