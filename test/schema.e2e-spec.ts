import { SYNC_TABLES, wireColumns } from '../src/sync/registry/sync-tables';
import { createTestApp, TestApp } from './utils/test-app';

describe('Schema (e2e)', () => {
  let t: TestApp;
  beforeAll(async () => (t = await createTestApp()));
  afterAll(() => t.close());

  it('the hand-written migrations match the entities (migration:generate would find nothing)', async () => {
    const pending = await t.dataSource.driver.createSchemaBuilder().log();
    expect(pending.upQueries.map((query) => query.query)).toEqual([]);
  });

  it('the sync table registry agrees with the entities, column by column', () => {
    const SERVER_COLUMNS = ['account_id', 'stamp', 'server_created_at', 'updated_at', 'deleted_at'];
    const DB_TYPE = { id: 'varchar', string: 'varchar', int: 'int', ms: 'bigint' };
    for (const table of SYNC_TABLES) {
      const metadata = t.dataSource.getMetadata(table.entity);
      expect(metadata.tableName).toBe(table.name);
      const entityColumns = metadata.columns
        .filter((column) => !SERVER_COLUMNS.includes(column.databaseName))
        .map((column) => ({
          name: column.databaseName,
          type: column.type,
          nullable: column.isNullable,
          length: column.length ? Number(column.length) : undefined,
        }));
      const registryColumns = wireColumns(table).map((name) => {
        const column =
          name === 'id' ? { kind: 'id' as const, nullable: false } : table.columns[name];
        const length =
          column.kind === 'string'
            ? table.columns[name].maxLength
            : column.kind === 'id'
              ? 64
              : undefined;
        return { name, type: DB_TYPE[column.kind], nullable: column.nullable, length };
      });
      expect(entityColumns.sort((a, b) => a.name.localeCompare(b.name))).toEqual(
        registryColumns.sort((a, b) => a.name.localeCompare(b.name)),
      );
    }
  });

  it('an incremental pull of one account can use an index range scan on (account_id, stamp)', async () => {
    // Seq scans are discouraged so the answer does not depend on how many rows other tests left.
    // The stamp is a recent one, as an incremental pull's is: with `stamp > 5` every row of the
    // account matches, and the primary key (account_id, id) then serves as well, which the planner
    // picked or not depending on the statistics other tests left.
    const since = Date.now();
    const plan = await t.dataSource.transaction(async (manager) => {
      await manager.query('SET LOCAL enable_seqscan = off');
      return manager.query(
        `EXPLAIN SELECT id FROM games WHERE account_id = '00000000-0000-0000-0000-000000000000' AND stamp > ${since}`,
      );
    });
    const text = (plan as Array<Record<string, string>>)
      .map((line) => line['QUERY PLAN'])
      .join('\n');
    expect(text).toMatch(
      new RegExp(
        `(Index (Only )?Scan using|Bitmap Index Scan on) "IDX_games_account_id_stamp"[\\s\\S]*` +
          `Index Cond: \\(\\(account_id = .*\\) AND \\(stamp > '?${since}'?(::bigint)?\\)\\)`,
      ),
    );
  });

  it('runs without parallel query on every connection of the pool (no worker forks per pull)', async () => {
    const settings = await Promise.all(
      Array.from({ length: 3 }, () =>
        t.dataSource.transaction((manager) =>
          manager.query<Array<{ max_parallel_workers_per_gather: string }>>(
            'SHOW max_parallel_workers_per_gather',
          ),
        ),
      ),
    );
    expect(settings.map(([row]) => row.max_parallel_workers_per_gather)).toEqual(['0', '0', '0']);
  });
});
