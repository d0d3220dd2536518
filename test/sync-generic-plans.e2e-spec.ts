/**
 * Generic plans for the sync statements (PlanModeService): off on a new database, on once every
 * sync table has statistics, and then right whatever the parameters: each lookup by id probes the
 * index that holds the key, never a walk over the device's rows testing every key.
 *
 * Runs on a database of its own, so that "new" means new whatever the other specs wrote.
 */
import { Client, PoolClient } from 'pg';
import { PULL_SQL } from '../src/sync/pull/pull-reader';
import { existingSql, plainPushSql, tombstoneSql } from '../src/sync/push/push-sql';
import { SYNC_TABLES, syncTable } from '../src/sync/registry/sync-tables';
import { GENERIC_PLANS_MIN_ROWS, PlanModeService } from '../src/sync/sql/plan-mode.service';
import { syncApi } from './utils/sync-api';
import { game, player, round, score } from './utils/sync-records';
import { adminQuery } from './setup/test-database';
import { createTestApp, registerDevice, TestApp } from './utils/test-app';

type PlanNode = {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Cond'?: string;
  'Recheck Cond'?: string;
  Filter?: string;
  Plans?: PlanNode[];
};

const SYNC_TABLE_NAMES = new Set(SYNC_TABLES.map((table) => table.name));

/** Every node of a plan that reads a sync table (the inserts and updates themselves aside). */
function syncTableScans(node: PlanNode): PlanNode[] {
  const own = node['Relation Name'] && SYNC_TABLE_NAMES.has(node['Relation Name']) ? [node] : [];
  // The writes themselves, and a tombstone's update of the rows it found by their address.
  const reads = own.filter((n) => !['ModifyTable', 'Tid Scan'].includes(n['Node Type']));
  return [...reads, ...(node.Plans ?? []).flatMap(syncTableScans)];
}

/** 50 devices and GENERIC_PLANS_MIN_ROWS rows (and a few) in each sync table. */
const SEED_SQL = `
  WITH d AS (INSERT INTO devices (last_stamp) SELECT 1 FROM generate_series(1, 50) RETURNING id),
  i AS (SELECT d.id AS device_id, n FROM d, generate_series(1, ${GENERIC_PLANS_MIN_ROWS / 50 + 10}) n),
  g AS (INSERT INTO games (device_id, id, stamp, target_score, status, started_at)
        SELECT device_id, 'g' || n, n, 500, 'active', 1 FROM i),
  p AS (INSERT INTO game_players (device_id, id, stamp, game_id, name, position, current_total)
        SELECT device_id, 'p' || n, n, 'g' || n, 'Ana', 1, 0 FROM i),
  r AS (INSERT INTO rounds (device_id, id, stamp, game_id, round_number, created_at)
        SELECT device_id, 'r' || n, n, 'g' || n, 1, 1 FROM i)
  INSERT INTO scores (device_id, id, stamp, round_id, player_id, raw_score, bonus_applied,
                      final_score, total_after)
  SELECT device_id, 's' || n, n, 'r' || n, 'p' || n, 1, 0, 1, 1 FROM i`;

describe('Sync statements on generic plans (e2e)', () => {
  const runUrl = process.env.DATABASE_URL!;
  const name = `plans_${process.pid}_${Date.now().toString(36)}`;
  const url = Object.assign(new URL(runUrl), { pathname: `/${name}` }).toString();
  let t: TestApp;
  let plans: PlanModeService;

  beforeAll(async () => {
    await adminQuery(runUrl, `CREATE DATABASE "${name}"`);
    process.env.DATABASE_URL = url;
    try {
      t = await createTestApp();
    } finally {
      process.env.DATABASE_URL = runUrl;
    }
    plans = t.app.get(PlanModeService);
  });
  afterAll(async () => {
    await t?.close();
    await adminQuery(runUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });

  /** Runs `sql` on every connection of the pool, all held at once. */
  async function onEveryConnection<T>(sql: string): Promise<T[][]> {
    const poolSize = Number(process.env.DATABASE_POOL_SIZE || 10);
    let arrived = 0;
    let allThere!: () => void;
    const barrier = new Promise<void>((resolve) => (allThere = resolve));
    return Promise.all(
      Array.from({ length: poolSize }, () =>
        t.dataSource.transaction(async (manager) => {
          if (++arrived === poolSize) allThere();
          await barrier;
          return manager.query<T[]>(sql);
        }),
      ),
    );
  }

  const poolPlanModes = async () =>
    (await onEveryConnection<{ plan_cache_mode: string }>('SHOW plan_cache_mode')).map(
      ([row]) => row.plan_cache_mode,
    );

  it('keeps PostgreSQL’s default until every sync table has statistics, then switches', async () => {
    expect(await plans.check()).toBe(false);
    expect(new Set(await poolPlanModes())).toEqual(new Set(['auto']));

    // Rows in every table, through the API.
    for (const device of [await registerDevice(t), await registerDevice(t)]) {
      const games = [game(), game()];
      const players = [player(games[0].id), player(games[0].id)];
      const rounds = [round(games[0].id), round(games[0].id)];
      await syncApi(t, device).pushOk({
        games: { created: games },
        game_players: { created: players },
        rounds: { created: rounds },
        scores: { created: rounds.map((r) => score(r.id, players[0].id)) },
      });
    }
    // Statistics, but of tables too small: plans made now would scan them whole.
    await t.dataSource.query('ANALYZE');
    expect(await plans.check()).toBe(false);
    await t.dataSource.query(SEED_SQL);
    // One table's statistics alone are not enough.
    await t.dataSource.query('ANALYZE "games"');
    expect(await plans.check()).toBe(false);
    // A connection taken before the switch keeps the default and the `= ANY` shape until it
    // leaves the pool again.
    const held = t.dataSource.createQueryRunner();
    const client = (await held.connect()) as PoolClient;
    try {
      await t.dataSource.query('ANALYZE');
      expect(await plans.check()).toBe(true);
      expect(plans.lookupFor(client)).toBe('any');
      expect(await held.query('SHOW plan_cache_mode')).toEqual([{ plan_cache_mode: 'auto' }]);
    } finally {
      await held.release();
    }
    const modes = await poolPlanModes();
    expect(modes).toEqual(modes.map(() => 'force_generic_plan'));
    expect(plans.lookupFor(client)).toBe('probe');
  });

  it('syncs on generic plans: pulls, plain pushes, conflicts, orphans and cascades', async () => {
    expect(await plans.check()).toBe(true);
    const device = await registerDevice(t);
    const api = syncApi(t, device);
    const g = game();
    const p = player(g.id);
    const r = round(g.id);
    const s = score(r.id, p.id);
    await api.pushOk({
      games: { created: [g] },
      game_players: { created: [p] },
      rounds: { created: [r] },
      scores: { created: [s] },
    });
    const first = await api.pullOk();
    expect(first.changes.scores.updated.map((x) => x.id)).toEqual([s.id]);

    // A second score for the stored round and player (their parents live, outside the push).
    const s2 = score(r.id, p.id);
    await api.pushOk({ scores: { created: [s2] } });
    // Changed on the server after the client's last pull: a conflict.
    expect((await api.push({ scores: { updated: [{ ...s2, raw_score: 9 }] } }, 1)).status).toBe(
      409,
    );
    // A parent that is not a record of this device: an orphan.
    const { timestamp } = await api.pullOk();
    expect(
      (await api.push({ scores: { created: [score('r-missing', p.id)] } }, timestamp)).status,
    ).toBe(422);
    // Deleting the game takes its players, rounds and their scores along.
    await api.pushOk({ games: { deleted: [g.id] } });
    const after = await api.pullOk(timestamp);
    expect(after.changes.games.deleted).toEqual([g.id]);
    expect(after.changes.game_players.deleted).toEqual([p.id]);
    expect(after.changes.rounds.deleted).toEqual([r.id]);
    expect(after.changes.scores.deleted.sort()).toEqual([s.id, s2.id].sort());

    // The statements made since the switch ran on generic plans only, on every connection.
    const statements = (
      await onEveryConnection<{ name: string; generic_plans: string; custom_plans: string }>(
        `SELECT name, generic_plans, custom_plans FROM pg_prepared_statements
         WHERE name LIKE 'sync_%'`,
      )
    ).flat();
    const probes = statements.filter(({ name }) => name.endsWith('_probe'));
    expect(probes.map(({ name }) => /^sync_[a-z]+/.exec(name)![0])).toEqual(
      expect.arrayContaining(['sync_push', 'sync_tombstone']),
    );
    for (const { name, custom_plans: custom } of probes) {
      expect({ name, custom: Number(custom) }).toEqual({ name, custom: 0 });
    }
    expect(
      statements.some(({ name, generic_plans: generic }) => name === 'sync_pull' && +generic > 0),
    ).toBe(true);
  });

  it('plans each lookup by id as a probe of the index holding the key, each pull as a range', async () => {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      await client.query('SET plan_cache_mode = force_generic_plan');
      // EXECUTE takes no bind parameters: the (simple) values are written out as literals.
      const literal = (value: unknown) =>
        Array.isArray(value) ? `'{${value.join(',')}}'` : `'${String(value)}'`;
      const explain = async (text: string, values: unknown[]): Promise<PlanNode[]> => {
        const statement = `s${Math.random().toString(36).slice(2)}`;
        await client.query(`PREPARE ${statement} AS ${text}`);
        const { rows } = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(
          `EXPLAIN (FORMAT JSON) EXECUTE ${statement}(${values.map(literal).join(', ')})`,
        );
        return syncTableScans(rows[0]['QUERY PLAN'][0].Plan);
      };
      const device = '00000000-0000-0000-0000-000000000001';
      const columns = (count: number) => Array.from({ length: count }, () => [] as unknown[]);
      const lookups = [
        // The plain push of every table, with parents outside the push to check.
        ...(await explain(plainPushSql(SYNC_TABLES, 'probe'), [
          device,
          1,
          ...columns(7 + 5 + 5 + 7),
          ...columns(3),
        ])),
        ...(await explain(existingSql(syncTable('scores')!, '$2', 'probe'), [device, ['s1']])),
        ...(await explain(tombstoneSql(syncTable('rounds')!, 'game_id', 'probe'), [
          device,
          ['g1'],
          1,
        ])),
      ];
      const pull = await explain(PULL_SQL, [device, 1, 1, 1, 1]);
      expect(lookups.length).toBeGreaterThanOrEqual(4 + 3 + 1 + 1);
      expect(pull).toHaveLength(2 * SYNC_TABLES.length);
      const expectScans = (scans: PlanNode[], by: RegExp) => {
        for (const scan of scans) {
          const condition = scan['Index Cond'] ?? scan['Recheck Cond'] ?? '';
          expect({ scan: scan['Node Type'], on: scan['Relation Name'], condition }).toEqual({
            scan: expect.stringMatching(/^(Index Scan|Index Only Scan|Bitmap Heap Scan)$/),
            on: scan['Relation Name'],
            condition: expect.stringMatching(by),
          });
        }
      };
      // The key of each probe (unnest's alias, numbered by PostgreSQL) in the index condition.
      expectScans(lookups, /\(k(_\d+)?\.key\)/);
      expectScans(pull, /\(stamp > \$\d\)/);
    } finally {
      await client.end();
    }
  });
});
