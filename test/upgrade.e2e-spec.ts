import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from '../ormconfig';
import { createDatabaseOn, freePort, makeTempDir, TestDatabase } from './setup/test-database';
import { ServerProcess } from './utils/server-process';
import { changes, game, player, round, score } from './utils/sync-records';
import { createTestApp, TestApp } from './utils/test-app';

/** The last landed build before accounts: its database is what installed apps sync against. */
const BEFORE_ACCOUNTS = '785bee959bf9b55abc65feab3cd15678c78f1c31';
const ROOT = path.resolve(__dirname, '..');

type OldDevice = { deviceId: string; token: string };

/**
 * Upgrading a database written by the build before accounts: that build itself (from git) runs
 * its migrations and takes writes through its API; then this build's migration turns each device
 * into an account of its own, and the old devices sync on with their old tokens and timestamps.
 */
describe('Upgrade to accounts (e2e, the previous build from git)', () => {
  let dir: string;
  let database: TestDatabase;
  let oldServer: ServerProcess | undefined;
  let t: TestApp | undefined;
  const migrations = () => new DataSource(buildDataSourceOptions(database.url));

  beforeAll(async () => {
    dir = makeTempDir('upgrade-');
    const tar = path.join(dir, 'build.tar');
    execFileSync(
      'git',
      [
        'archive',
        '-o',
        tar,
        BEFORE_ACCOUNTS,
        'src',
        'migrations',
        'ormconfig.ts',
        'tsconfig.json',
        'package.json',
      ],
      { cwd: ROOT },
    );
    execFileSync('tar', ['-xf', tar, '-C', dir]);
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    database = await createDatabaseOn(process.env.DATABASE_URL!, 'sync_upgrade');
  });

  afterAll(async () => {
    oldServer?.kill('SIGKILL');
    await t?.close();
    await database?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every device syncing with its token and last_pulled_at', async () => {
    // --- The previous build: its migrations, its API.
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    oldServer = ServerProcess.start(
      {
        DATABASE_URL: database.url,
        PORT: String(port),
        DATA_DIR: path.join(dir, 'data'),
        JWT_SECRET: process.env.JWT_SECRET,
        JWT_EXPIRES_IN: '1h',
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
      },
      dir,
    );
    await oldServer.waitFor(`${base}/health`, 120_000);
    const call = async (
      device: OldDevice | null,
      method: string,
      route: string,
      body?: unknown,
    ) => {
      const response = await fetch(`${base}/api/v1${route}`, {
        method,
        headers: {
          'Content-Type': 'application/json',
          ...(device ? { Authorization: `Bearer ${device.token}` } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      if (!response.ok)
        throw new Error(`${method} ${route}: ${response.status} ${await response.text()}`);
      return (await response.json()) as Record<string, unknown>;
    };
    const registerOld = async (name: string): Promise<OldDevice> => {
      const body = await call(null, 'POST', '/devices/register', { name });
      return { deviceId: body.device_id as string, token: body.access_token as string };
    };
    const pullOld = async (device: OldDevice, since = 0) =>
      (await call(device, 'GET', `/sync/pull?last_pulled_at=${since}`)).timestamp as number;

    const ana = await registerOld('Ana’s phone');
    const ben = await registerOld('Ben’s phone');
    const anaGame = game();
    const anaPlayers = [player(anaGame.id), player(anaGame.id)];
    const anaRound = round(anaGame.id);
    const anaScore = score(anaRound.id, anaPlayers[0].id);
    const t0 = await pullOld(ana);
    await call(ana, 'POST', '/sync/push', {
      changes: changes({
        games: { created: [anaGame] },
        game_players: { created: anaPlayers },
        rounds: { created: [anaRound] },
        scores: { created: [anaScore] },
      }),
      last_pulled_at: t0,
    });
    const t1 = await pullOld(ana, t0);
    await call(ana, 'POST', '/sync/push', {
      changes: changes({ rounds: { deleted: [anaRound.id] } }),
      last_pulled_at: t1,
    });
    const t2 = await pullOld(ana, t1);
    const benGame = game({ id: anaGame.id, name: 'Ben’s game' });
    await call(ben, 'POST', '/sync/push', {
      changes: changes({ games: { created: [benGame] } }),
      last_pulled_at: await pullOld(ben),
    });
    oldServer.kill('SIGTERM');
    expect(await oldServer.exit()).toEqual({ code: 0, signal: null });
    oldServer = undefined;

    // --- The upgrade, and its way back while every account has one device.
    const ds = await migrations().initialize();
    let added: string[];
    try {
      // Accounts first, then whatever came after.
      added = (await ds.runMigrations({ transaction: 'all' })).map((m) => m.name);
      expect(added[0]).toBe('CreateAccounts1796580000000');
      for (let i = 0; i < added.length; i++) await ds.undoLastMigration({ transaction: 'all' });
      expect(
        await ds.query('SELECT id, last_stamp::bigint AS clock FROM devices ORDER BY name'),
      ).toEqual([
        { id: ana.deviceId, clock: String(t2) },
        { id: ben.deviceId, clock: expect.any(String) },
      ]);
      expect(
        await ds.query('SELECT count(*)::int AS n FROM games WHERE device_id = $1', [ana.deviceId]),
      ).toEqual([{ n: 1 }]);
      await ds.runMigrations({ transaction: 'all' });
      // Each device is an account of its own, with the device's id and clock.
      expect(
        await ds.query(
          'SELECT d.id = d.account_id AS own, a.last_stamp::bigint AS clock FROM devices d JOIN accounts a ON a.id = d.account_id ORDER BY d.name',
        ),
      ).toEqual([
        { own: true, clock: String(t2) },
        { own: true, clock: expect.any(String) },
      ]);
    } finally {
      await ds.destroy();
    }

    // --- This build on the upgraded database, with the old tokens.
    const previousUrl = process.env.DATABASE_URL;
    process.env.DATABASE_URL = database.url;
    try {
      t = await createTestApp();
    } finally {
      process.env.DATABASE_URL = previousUrl;
    }
    const auth = (device: OldDevice) => ({ Authorization: `Bearer ${device.token}` });
    const me = await t.http().get('/api/v1/devices/me').set(auth(ana)).expect(200);
    expect(me.body).toMatchObject({ device_id: ana.deviceId, account_id: ana.deviceId });

    // Its last_pulled_at is still current: nothing new, and the same timestamp.
    const pullNew = (device: OldDevice, since: number) =>
      t!
        .http()
        .get('/api/v1/sync/pull')
        .query({ last_pulled_at: since })
        .set(auth(device))
        .expect(200);
    expect((await pullNew(ana, t2)).body).toMatchObject({
      changes: { games: { updated: [] }, rounds: { deleted: [] } },
      timestamp: t2,
    });
    // From an older one, the deletion and its cascade are still there (tombstones kept).
    const since1 = (await pullNew(ana, t1)).body as {
      changes: Record<string, { deleted: string[] }>;
    };
    expect(since1.changes.rounds.deleted).toEqual([anaRound.id]);
    expect(since1.changes.scores.deleted).toEqual([anaScore.id]);
    // Each device's data stayed its own.
    const benAll = (await pullNew(ben, 0)).body as {
      changes: Record<string, { updated: Array<{ name: string }> }>;
    };
    expect(benAll.changes.games.updated.map((g) => g.name)).toEqual(['Ben’s game']);
    // Pushes go on with the old timestamps: a stale one is still a conflict.
    const push = (since: number, input: Parameters<typeof changes>[0]) =>
      t!
        .http()
        .post('/api/v1/sync/push')
        .set(auth(ana))
        .send({ changes: changes(input), last_pulled_at: since });
    await push(t2, { game_players: { updated: [{ ...anaPlayers[0], current_total: 40 }] } }).expect(
      200,
    );
    await push(t1, { game_players: { updated: [{ ...anaPlayers[0], current_total: 50 }] } }).expect(
      409,
    );

    // A second device in Ana's account: now the data is shared, and there is no way back.
    const code = (await t.http().post('/api/v1/devices/pairing-codes').set(auth(ana)).expect(201))
      .body.code as string;
    await t.http().post('/api/v1/devices/register').send({ pairing_code: code }).expect(201);
    const back = await migrations().initialize();
    try {
      // The migrations after accounts go back; accounts do not.
      for (let i = 1; i < added.length; i++) await back.undoLastMigration({ transaction: 'all' });
      await expect(back.undoLastMigration({ transaction: 'all' })).rejects.toThrow(
        /1 account\(s\) have more than one device.*cannot be reverted/,
      );
      expect(await back.query('SELECT count(*)::int AS n FROM accounts')).toEqual([{ n: 2 }]);
    } finally {
      await back.destroy();
    }
  }, 240_000);
});
