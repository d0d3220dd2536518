import { Client } from 'pg';
import { syncApi } from './utils/sync-api';
import { game } from './utils/sync-records';
import { createTestApp, registerDevice, TestApp } from './utils/test-app';

/** Any number; the push under test blocks on this advisory lock at commit time. */
const COMMIT_GATE = 424_242;

/**
 * The race that loses data with wall-clock stamps: a push writes its rows, a pull takes its
 * timestamp, and only then does the push commit. The next pull must still return those rows.
 *
 * Deterministic, no sleeps: a deferred constraint trigger (created here, for one test device
 * only) makes the push's COMMIT wait on an advisory lock that this test holds. The test sees
 * the push parked in pg_locks, pulls, then releases the lock and lets the push finish.
 */
describe('Pull vs. a concurrent push (e2e)', () => {
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

  it('a push that commits after a pull took its timestamp is returned by the next pull', async () => {
    const device = await registerDevice(t);
    const api = syncApi(t, device);
    await t.dataSource.query(`
      CREATE FUNCTION race_gate() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_advisory_xact_lock(${COMMIT_GATE}); RETURN NULL; END $$`);
    await t.dataSource.query(`
      CREATE CONSTRAINT TRIGGER race_gate AFTER INSERT ON games DEFERRABLE INITIALLY DEFERRED
      FOR EACH ROW WHEN (NEW.device_id = '${device.deviceId}') EXECUTE FUNCTION race_gate()`);

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
});
