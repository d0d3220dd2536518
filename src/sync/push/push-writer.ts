import { QueryRunner } from 'typeorm';
import { SyncTable, syncTable } from '../registry/sync-tables';
import { queryPrepared } from '../sql/query-prepared';
import { AccountClock, CLOCK_CTE } from '../sync-clock';
import { WireRecord } from '../validation/validate-push-changes';
import { ExistingRow, ExistingRows, TablePlan } from './push-plan';
import { CLOCK_PART, columnArrays, existingSql, tombstoneSql, upsertSql } from './push-sql';

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

/** The statements of each combination of tables a push touches, built on first use. */
const STATEMENTS = new Map<string, string>();
const statement = (name: string, build: () => string): string => {
  let text = STATEMENTS.get(name);
  if (!text) STATEMENTS.set(name, (text = build()));
  return text;
};

/**
 * The statements of one push, on the runner's connection inside SyncService's transaction;
 * every statement is scoped by the account.
 */
export class PushWriter {
  constructor(
    private readonly runner: QueryRunner,
    private readonly accountId: string,
  ) {}

  /**
   * The push's first statement: advances the account clock (locking the account row, see
   * sync-clock.ts) and reads every id the push names or points at, in one round trip. Should
   * another push of the account have committed while this one waited for the lock, the rows are
   * read again in a statement of their own, now that no other push can write them.
   */
  async lockAndLoad(
    ids: Map<SyncTable, Set<string>>,
  ): Promise<{ clock: AccountClock; existing: ExistingRows }> {
    const wanted = [...ids].filter(([, tableIds]) => tableIds.size > 0);
    const key = wanted.map(([table]) => table.name).join('_');
    const parts = wanted.map(([table], i) => existingSql(table, `$${i + 2}`));
    const params = [this.accountId, ...wanted.map(([, tableIds]) => [...tableIds])];
    const name = `sync_push_start_${key}`;
    const rows = await queryPrepared<{ part: number; json: string }>(
      this.runner,
      name,
      statement(name, () => `WITH ${CLOCK_CTE}\n${[CLOCK_PART, ...parts].join('\nUNION ALL\n')}`),
      params,
    );
    const clockRow = rows.find((row) => row.part === 0)!;
    const [lastStamp, stamp, purgedStamp, fresh] = JSON.parse(clockRow.json) as [
      number,
      number,
      number,
      boolean,
    ];
    const found =
      fresh || parts.length === 0
        ? rows.filter((row) => row.part === 1)
        : await queryPrepared<{ json: string }>(
            this.runner,
            `sync_existing_${key}`,
            statement(`sync_existing_${key}`, () => parts.join('\nUNION ALL\n')),
            params,
          );
    return {
      clock: { lastStamp, stamp, purgedStamp },
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
    const values: unknown[] = [this.accountId, stamp];
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
    const name = `sync_tombstone_${table.name}_${column}`;
    const rows = await queryPrepared<{ id: string }>(
      this.runner,
      name,
      statement(name, () => tombstoneSql(table, column)),
      [this.accountId, ids, stamp],
    );
    return rows.map((row) => row.id);
  }
}
