import { Client } from 'pg';
import { syncApi } from './utils/sync-api';
import { game } from './utils/sync-records';
import { createTestApp, registerDevice, TestApp } from './utils/test-app';

/** Any number; the push under test blocks on this advisory lock at commit time. */
const COMMIT_GATE = 424_242;

/**
 * Races between a push that has written but not committed and a pull or a second push of the
 * same device.
 *
 * Deterministic, no sleeps: a deferred constraint trigger (created here, for one test device
 * only) makes the push's COMMIT wait on an advisory lock that this test holds. The test sees
 * the push parked in pg_locks, acts, then releases the lock and lets the push finish.
 */
describe('Sync vs. a concurrent push (e2e)', () => {
  let t: TestApp;
  let gate: Client;

  beforeAll(async () => {
    t = await createTestApp();
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

  /** A push of this device that writes games waits at its COMMIT while the test holds the gate. */
  async function gateCommitsOf(deviceId: string): Promise<void> {
    await t.dataSource.query('DROP TRIGGER IF EXISTS race_gate ON games');
    await t.dataSource.query(`
      CREATE OR REPLACE FUNCTION race_gate() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_advisory_xact_lock(${COMMIT_GATE}); RETURN NULL; END $$`);
    await t.dataSource.query(`
      CREATE CONSTRAINT TRIGGER race_gate AFTER INSERT OR UPDATE ON games
      DEFERRABLE INITIALLY DEFERRED
      FOR EACH ROW WHEN (NEW.device_id = '${deviceId}') EXECUTE FUNCTION race_gate()`);
  }

  /** Some statement of this test's database waits for a row lock (a push for the device row). */
  async function waitUntilSomethingWaitsForARowLock(): Promise<void> {
    for (const deadline = Date.now() + 20_000; Date.now() < deadline;) {
      const { rows } = await gate.query(
        `SELECT 1 FROM pg_stat_activity WHERE datname = current_database()
           AND wait_event_type = 'Lock' AND wait_event IN ('transactionid', 'tuple')`,
      );
      if (rows.length) return;
      await new Promise((resolve) => setImmediate(resolve));
    }
    throw new Error('the second push never waited for the device row');
  }

  it('a push that commits after a pull took its timestamp is returned by the next pull', async () => {
    const device = await registerDevice(t);
    const api = syncApi(t, device);
    await gateCommitsOf(device.deviceId);

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

  // The second push must read the rows it touches after it holds the device row, in a snapshot
  // taken after the first push committed: rows read in the statement that waited for the lock
  // (its snapshot predates that commit) would miss the change and overwrite it without a 409.
  it('a push that waited for another push of the device sees what that push committed', async () => {
    const device = await registerDevice(t);
    const api = syncApi(t, device);
    const g = game();
    await api.pushOk({ games: { created: [g] } });
    await gateCommitsOf(device.deviceId);
    const { timestamp } = await api.pullOk();

    await gate.query('SELECT pg_advisory_lock($1)', [COMMIT_GATE]);
    const first = api
      .push({ games: { updated: [{ ...g, name: 'first' }] } }, timestamp)
      .then((response) => response);
    await waitUntilPushIsParked();
    const second = api
      .push({ games: { updated: [{ ...g, name: 'second' }] } }, timestamp)
      .then((response) => response);
    await waitUntilSomethingWaitsForARowLock();

    await gate.query('SELECT pg_advisory_unlock($1)', [COMMIT_GATE]);
    expect((await first).status).toBe(200);
    const refused = await second;
    expect(refused.status).toBe(409);
    expect(refused.body.conflicts).toEqual([{ table: 'games', id: g.id }]);
    const after = await api.pullOk(timestamp);
    expect(after.changes.games.updated).toEqual([{ ...g, name: 'first' }]);
  });
});
