import { Client } from 'pg';
import { syncApi } from './utils/sync-api';
import { game } from './utils/sync-records';
import { createTestApp, pairDevice, registerDevice, TestApp } from './utils/test-app';

/** Any number; the push under test blocks on this advisory lock at commit time. */
const COMMIT_GATE = 424_242;

/**
 * Races between a push that has written but not committed and a pull or other pushes of the same
 * account, from the same device or from its other devices.
 *
 * Deterministic, no sleeps: a deferred constraint trigger (created here, for one test account
 * only) makes the push's COMMIT wait on an advisory lock that this test holds. The test sees
 * the push parked in pg_locks, acts, then releases the lock and lets the push finish.
 */
describe('Sync vs. a concurrent push (e2e)', () => {
  let t: TestApp;
  let gate: Client;

  beforeAll(async () => {
    t = await createTestApp();
    // Listening once: supertest would otherwise listen and close per request, and concurrent
    // requests would find the listener gone.
    await t.app.listen(0, '127.0.0.1');
    gate = new Client({ connectionString: process.env.DATABASE_URL });
    await gate.connect();
  });
  afterAll(async () => {
    await t.dataSource.query('DROP TRIGGER IF EXISTS race_gate ON games');
    await t.dataSource.query('DROP FUNCTION IF EXISTS race_gate()');
    await gate.end();
    await t.close();
  });

  async function waitUntilPushIsParked(): Promise<void> {
    for (const deadline = Date.now() + 20_000; Date.now() < deadline;) {
      const { rows } = await gate.query(
        `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND NOT granted`,
        [COMMIT_GATE],
      );
      if (rows.length) return;
      await new Promise((resolve) => setImmediate(resolve));
    }
    throw new Error('the push never reached its commit');
  }

  /** A push of this account that writes games waits at its COMMIT while the test holds the gate. */
  async function gateCommitsOf(accountId: string): Promise<void> {
    await t.dataSource.query('DROP TRIGGER IF EXISTS race_gate ON games');
    await t.dataSource.query(`
      CREATE OR REPLACE FUNCTION race_gate() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_advisory_xact_lock(${COMMIT_GATE}); RETURN NULL; END $$`);
    await t.dataSource.query(`
      CREATE CONSTRAINT TRIGGER race_gate AFTER INSERT OR UPDATE ON games
      DEFERRABLE INITIALLY DEFERRED
      FOR EACH ROW WHEN (NEW.account_id = '${accountId}') EXECUTE FUNCTION race_gate()`);
  }

  /** `count` statements of this test's database wait for a row lock (pushes for the account row). */
  async function waitUntilWaitingForARowLock(count = 1): Promise<void> {
    for (const deadline = Date.now() + 20_000; Date.now() < deadline;) {
      const { rows } = await gate.query(
        `SELECT 1 FROM pg_stat_activity WHERE datname = current_database()
           AND wait_event_type = 'Lock' AND wait_event IN ('transactionid', 'tuple')`,
      );
      if (rows.length >= count) return;
      await new Promise((resolve) => setImmediate(resolve));
    }
    throw new Error(`${count} push(es) never waited for the account row`);
  }

  it('a push that commits after a pull took its timestamp is returned by the next pull', async () => {
    const device = await registerDevice(t);
    const api = syncApi(t, device);
    await gateCommitsOf(device.accountId);

    const before = await api.pullOk();
    await gate.query('SELECT pg_advisory_lock($1)', [COMMIT_GATE]);
    const g = game();
    // `.then` sends the request now (a supertest request is lazy).
    const pushing = api
      .push({ games: { created: [g] } }, before.timestamp)
      .then((response) => response);
    await waitUntilPushIsParked();

    // The push has written and stamped its rows but not committed.
    const during = await api.pullOk(before.timestamp);
    expect(during.changes.games.updated).toEqual([]);

    await gate.query('SELECT pg_advisory_unlock($1)', [COMMIT_GATE]);
    expect((await pushing).status).toBe(200);

    const after = await api.pullOk(during.timestamp);
    expect(after.changes.games.updated).toEqual([g]);
    expect(after.timestamp).toBeGreaterThan(during.timestamp);
  });

  // The second push must read the rows it touches after it holds the account row, in a snapshot
  // taken after the first push committed: rows read in the statement that waited for the lock
  // (its snapshot predates that commit) would miss the change and overwrite it without a 409.
  it('a push that waited for another push of the account sees what that push committed', async () => {
    const device = await registerDevice(t);
    const api = syncApi(t, device);
    const g = game();
    await api.pushOk({ games: { created: [g] } });
    await gateCommitsOf(device.accountId);
    const { timestamp } = await api.pullOk();

    await gate.query('SELECT pg_advisory_lock($1)', [COMMIT_GATE]);
    const first = api
      .push({ games: { updated: [{ ...g, name: 'first' }] } }, timestamp)
      .then((response) => response);
    await waitUntilPushIsParked();
    const second = api
      .push({ games: { updated: [{ ...g, name: 'second' }] } }, timestamp)
      .then((response) => response);
    await waitUntilWaitingForARowLock();

    await gate.query('SELECT pg_advisory_unlock($1)', [COMMIT_GATE]);
    expect((await first).status).toBe(200);
    const refused = await second;
    expect(refused.status).toBe(409);
    expect(refused.body.conflicts).toEqual([{ table: 'games', id: g.id }]);
    const after = await api.pullOk(timestamp);
    expect(after.changes.games.updated).toEqual([{ ...g, name: 'first' }]);
  });

  it('four devices of one account push while a fifth pulls: every pull misses nothing', async () => {
    const first = await registerDevice(t);
    const writers = [first, ...(await Promise.all([1, 2, 3].map(() => pairDevice(t, first))))];
    const reader = syncApi(t, await pairDevice(t, first));
    await gateCommitsOf(first.accountId);
    const start = await reader.pullOk();

    // The first writer's push parks at its COMMIT holding the account row; the other three
    // queue behind it for that row (one clock: their stamps will be above its stamp).
    await gate.query('SELECT pg_advisory_lock($1)', [COMMIT_GATE]);
    const games = writers.map(() => game());
    const parked = syncApi(t, writers[0])
      .push({ games: { created: [games[0]] } }, start.timestamp)
      .then((response) => response);
    await waitUntilPushIsParked();
    const queued = writers.slice(1).map((writer, i) =>
      syncApi(t, writer)
        .push({ games: { created: [games[i + 1]] } }, start.timestamp)
        .then((response) => response),
    );
    await waitUntilWaitingForARowLock(3);

    // Nothing is committed yet: a pull sees none of it, and its timestamp is below every stamp.
    const during = await reader.pullOk(start.timestamp);
    expect(during.changes.games.updated).toEqual([]);

    await gate.query('SELECT pg_advisory_unlock($1)', [COMMIT_GATE]);
    for (const response of [await parked, ...(await Promise.all(queued))]) {
      expect(response.status).toBe(200);
    }
    const after = await reader.pullOk(during.timestamp);
    expect(after.changes.games.updated.map((r) => r.id).sort()).toEqual(
      games.map((g) => g.id).sort(),
    );
  });

  it('under free-running pushes of four devices, the pulls of a fifth add up to every record', async () => {
    const first = await registerDevice(t);
    const writers = [first, ...(await Promise.all([1, 2, 3].map(() => pairDevice(t, first))))];
    const reader = syncApi(t, await pairDevice(t, first));
    const pushed: string[] = [];
    const seen = new Set<string>();
    let { timestamp } = await reader.pullOk();
    let writing = true;
    const writes = Promise.all(
      writers.map(async (writer) => {
        const api = syncApi(t, writer);
        for (let i = 0; i < 15; i++) {
          const g = game();
          await api.pushOk({ games: { created: [g] } });
          pushed.push(g.id);
        }
      }),
    ).finally(() => (writing = false));
    while (writing) {
      const pulled = await reader.pullOk(timestamp);
      expect(pulled.timestamp).toBeGreaterThanOrEqual(timestamp);
      for (const record of pulled.changes.games.updated) seen.add(record.id as string);
      timestamp = pulled.timestamp;
    }
    await writes;
    const last = await reader.pullOk(timestamp);
    for (const record of last.changes.games.updated) seen.add(record.id as string);
    expect([...seen].sort()).toEqual([...pushed].sort());
  });
});
