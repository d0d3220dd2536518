import { Client } from 'pg';
import { PURGE_BATCH, TombstonePurgeService } from '../src/sync/purge/tombstone-purge.service';
import { freePort } from './setup/test-database';
import { ServerProcess } from './utils/server-process';
import { snapshotAccount, syncApi } from './utils/sync-api';
import { game, player } from './utils/sync-records';
import {
  createTestApp,
  pairDevice,
  registerDevice,
  RegisteredDevice,
  TestApp,
} from './utils/test-app';

const DAY_MS = 86_400_000;

describe('Tombstone purge and replacement pulls (e2e)', () => {
  let t: TestApp;
  let purge: () => Promise<number | null>;
  beforeAll(async () => {
    t = await createTestApp();
    purge = () => t.app.get(TombstonePurgeService).purge();
  });
  afterAll(() => t.close());

  /** Makes the account's tombstones look deleted `days` ago (the default retention is 90). */
  const ageTombstones = async (device: RegisteredDevice, days: number, ids?: string[]) => {
    for (const table of ['games', 'game_players', 'rounds', 'scores']) {
      await t.dataSource.query(
        `UPDATE "${table}" SET deleted_at = now() - make_interval(days => $2)
         WHERE account_id = $1 AND deleted_at IS NOT NULL ${ids ? 'AND id = ANY($3)' : ''}`,
        ids ? [device.accountId, days, ids] : [device.accountId, days],
      );
    }
  };
  const tombstones = async (device: RegisteredDevice) =>
    (
      await t.dataSource.query<Array<{ id: string }>>(
        `SELECT id FROM games WHERE account_id = $1 AND deleted_at IS NOT NULL
         UNION ALL SELECT id FROM game_players WHERE account_id = $1 AND deleted_at IS NOT NULL
         ORDER BY id`,
        [device.accountId],
      )
    ).map((row) => row.id);
  const purgedStamp = async (device: RegisteredDevice) =>
    Number(
      (
        await t.dataSource.query<Array<{ purged_stamp: string }>>(
          'SELECT purged_stamp FROM accounts WHERE id = $1',
          [device.accountId],
        )
      )[0].purged_stamp,
    );

  it('purges the tombstones past the retention only, and remembers the newest stamp purged', async () => {
    const device = await registerDevice(t);
    const api = syncApi(t, device);
    const [old, recent, live] = [game(), game(), game()];
    const oldPlayer = player(old.id);
    await api.pushOk({
      games: { created: [old, recent, live] },
      game_players: { created: [oldPlayer] },
    });
    await api.pushOk({ games: { deleted: [old.id] } });
    const { timestamp: afterOld } = await api.pullOk();
    await api.pushOk({ games: { deleted: [recent.id] } });
    await ageTombstones(device, 91, [old.id, oldPlayer.id]);

    expect(await purge()).toBeGreaterThanOrEqual(2);
    expect(await tombstones(device)).toEqual([recent.id]);
    expect(await purgedStamp(device)).toBe(afterOld);
    const pulled = await api.pullOk();
    expect(pulled.changes.games.updated.map((r) => r.id)).toEqual([live.id]);
  });

  it('answers a pull from before a purged deletion with every live record, as a replacement', async () => {
    const device = await registerDevice(t);
    const api = syncApi(t, device);
    const keep = game();
    const gone = game();
    await api.pushOk({ games: { created: [keep, gone] } });
    const { timestamp: before } = await api.pullOk();
    await api.pushOk({ games: { deleted: [gone.id] } });
    const { timestamp: after } = await api.pullOk();
    await ageTombstones(device, 91);
    await purge();

    const replacement = (await api.pull({ last_pulled_at: before }).expect(200)).body;
    expect(replacement).toEqual({
      changes: expect.objectContaining({
        games: { created: [], updated: [keep], deleted: [] },
      }),
      experimentalStrategy: 'replacement',
      timestamp: after,
    });
    // A pull that saw the deletion, and a first pull, are as always: no strategy key.
    for (const query of [{ last_pulled_at: after }, {}, { last_pulled_at: 0 }] as Array<
      Record<string, number>
    >) {
      const body = (await api.pull(query).expect(200)).body as Record<string, unknown>;
      expect(Object.keys(body)).toEqual(['changes', 'timestamp']);
    }
  });

  it('refuses a push from before a purged deletion with 409, changing nothing', async () => {
    const device = await registerDevice(t);
    const api = syncApi(t, device);
    const g = game();
    await api.pushOk({ games: { created: [g] } });
    const { timestamp: before } = await api.pullOk();
    await api.pushOk({ games: { deleted: [g.id] } });
    await ageTombstones(device, 91);
    await purge();
    const snapshot = await snapshotAccount(t, device.accountId);
    // Would bring the purged game back.
    const response = await api.push(
      { games: { updated: [{ ...g, name: 'edited offline' }] } },
      before,
    );
    expect(response.status).toBe(409);
    expect(response.body).toMatchObject({ statusCode: 409, conflicts: [] });
    expect(await snapshotAccount(t, device.accountId)).toEqual(snapshot);
    // After a pull it goes through (as a new record: the server no longer knows the old one).
    await api.pushOk({ games: { created: [game()] } });
  });

  it('purges in batches, every tombstone of every table', async () => {
    const device = await registerDevice(t);
    const api = syncApi(t, device);
    const games = Array.from({ length: PURGE_BATCH + 100 }, () => game());
    const players = games.slice(0, 50).map((g) => player(g.id));
    await api.pushOk({ games: { created: games }, game_players: { created: players } });
    await api.pushOk({ games: { deleted: games.map((g) => g.id) } });
    expect((await tombstones(device)).length).toBe(games.length + players.length);
    await ageTombstones(device, 91);
    expect(await purge()).toBeGreaterThanOrEqual(games.length + players.length);
    expect(await tombstones(device)).toEqual([]);
  });

  it('lets one instance purge at a time: another one skips its turn', async () => {
    const device = await registerDevice(t);
    const api = syncApi(t, device);
    const g = game();
    await api.pushOk({ games: { created: [g] } });
    await api.pushOk({ games: { deleted: [g.id] } });
    await ageTombstones(device, 91);
    const other = new Client({ connectionString: process.env.DATABASE_URL });
    await other.connect();
    try {
      await other.query('SELECT pg_advisory_lock(725120002)');
      expect(await purge()).toBeNull();
      expect(await tombstones(device)).toEqual([g.id]);
    } finally {
      await other.end();
    }
    expect(await purge()).toBeGreaterThanOrEqual(1);
    expect(await tombstones(device)).toEqual([]);
  });

  it('keeps pulls of paired devices consistent: the one that saw the deletion pulls incrementally', async () => {
    const phone = await registerDevice(t);
    const tablet = await pairDevice(t, phone);
    const g = game();
    await syncApi(t, phone).pushOk({ games: { created: [g] } });
    const { timestamp: tabletBefore } = await syncApi(t, tablet).pullOk();
    await syncApi(t, phone).pushOk({ games: { deleted: [g.id] } });
    const { timestamp: phoneAfter } = await syncApi(t, phone).pullOk();
    await ageTombstones(phone, 91);
    await purge();
    expect((await syncApi(t, phone).pull({ last_pulled_at: phoneAfter })).body).not.toHaveProperty(
      'experimentalStrategy',
    );
    expect((await syncApi(t, tablet).pull({ last_pulled_at: tabletBefore })).body).toHaveProperty(
      'experimentalStrategy',
      'replacement',
    );
  });

  it('runs on its own every SYNC_PURGE_INTERVAL_MS, and once on `npm run purge`', async () => {
    const device = await registerDevice(t);
    const api = syncApi(t, device);
    const [first, second] = [game(), game()];
    await api.pushOk({ games: { created: [first, second] } });
    await api.pushOk({ games: { deleted: [first.id] } });
    await ageTombstones(device, 2);

    // `npm run purge` with a retention of one day.
    const script = ServerProcess.start(
      {
        DATABASE_URL: process.env.DATABASE_URL,
        SYNC_TOMBSTONE_RETENTION_MS: String(DAY_MS),
        DATA_DIR: '/nonexistent-data-dir-not-needed',
        JWT_SECRET: process.env.JWT_SECRET,
        LOG_LEVEL: 'warn',
      },
      undefined,
      'scripts/purge.ts',
    );
    expect(await script.exit(60_000)).toEqual({ code: 0, signal: null });
    expect(script.output).toMatch(/Purged \d+ tombstones/);
    expect(await tombstones(device)).toEqual([]);

    // A server purging every 200 ms with the same retention.
    await api.pushOk({ games: { deleted: [second.id] } });
    await ageTombstones(device, 2);
    const port = await freePort();
    const server = ServerProcess.start({
      DATABASE_URL: process.env.DATABASE_URL,
      PORT: String(port),
      SYNC_TOMBSTONE_RETENTION_MS: String(DAY_MS),
      SYNC_PURGE_INTERVAL_MS: '200',
      DATA_DIR: '/nonexistent-data-dir-not-needed',
      JWT_SECRET: process.env.JWT_SECRET,
      LOG_LEVEL: 'warn',
    });
    try {
      await server.waitFor(`http://127.0.0.1:${port}/health`);
      for (const deadline = Date.now() + 20_000; (await tombstones(device)).length > 0;) {
        if (Date.now() > deadline) throw new Error(`the server never purged:\n${server.output}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      server.kill('SIGTERM');
      expect((await server.exit()).code).toBe(0);
    }
  }, 120_000);
});
