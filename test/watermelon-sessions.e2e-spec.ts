import { Database } from '@nozbe/watermelondb';
import {
  AccountClient,
  DeviceSignedOutError,
  memorySessionStorage,
  SessionStorage,
} from '../client/account';
import { syncDatabase } from '../client/sync';
import {
  addRoundWithScore,
  countUnsyncedChanges,
  createGame,
  createInstall,
  dumpDatabase,
  ListeningApp,
  startListeningApp,
  failOnWatermelonProblems,
} from './utils/watermelon';

/** Access tokens of the app under test live this long, so that tests can outlive them. */
const ACCESS_TOKEN_SECONDS = 2;

type Install = {
  db: Database;
  account: AccountClient;
  storage: SessionStorage;
  /** Every request, as "POST /api/v1/devices/token 200". */
  requests: string[];
  /** Set to make the next token refresh reach the server but its answer never arrive. */
  loseNextRefreshAnswer: boolean;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Sessions across a long offline stretch, with real WatermelonDB installs (e2e)', () => {
  let server: ListeningApp;
  const saved = process.env.JWT_EXPIRES_IN;

  beforeAll(async () => {
    process.env.JWT_EXPIRES_IN = `${ACCESS_TOKEN_SECONDS}s`;
    server = await startListeningApp();
  });
  afterAll(async () => {
    process.env.JWT_EXPIRES_IN = saved;
    await server.close();
  });

  failOnWatermelonProblems();

  function newInstall(): Install {
    const storage = memorySessionStorage();
    const install = { db: createInstall(), storage, requests: [] } as unknown as Install;
    install.account = new AccountClient({
      apiUrl: server.baseUrl,
      storage,
      fetch: async (input, init) => {
        const url = new URL(String(input instanceof Request ? input.url : input));
        const response = await fetch(input, init);
        install.requests.push(`${init?.method ?? 'GET'} ${url.pathname} ${response.status}`);
        if (url.pathname === '/api/v1/devices/token' && install.loseNextRefreshAnswer) {
          install.loseNextRefreshAnswer = false;
          await response.arrayBuffer(); // the server answered; the phone never hears it
          throw new TypeError('fetch failed: the connection dropped');
        }
        return response;
      },
    });
    return install;
  }

  const sync = (install: Install) => syncDatabase(install.db, install.account.syncOptions());
  const outliveAccessToken = () => sleep(ACCESS_TOKEN_SECONDS * 1000 + 300);
  const refreshes = (install: Install) =>
    install.requests.filter((r) => r.startsWith('POST /api/v1/devices/token ')).length;

  it('syncs games played offline past the access token, with no action from the app', async () => {
    const phone = newInstall();
    await phone.account.register({ name: 'phone' });
    const f = await createGame(phone.db);
    await sync(phone);
    const tablet = newInstall();
    await tablet.account.register({ pairingCode: (await phone.account.createPairingCode()).code });
    await sync(tablet);

    // Put away: rounds scored offline while the access token runs out.
    await addRoundWithScore(phone.db, {
      gameId: f.gameId,
      playerId: f.playerIds[0],
      roundNumber: 3,
      points: 25,
    });
    await outliveAccessToken();
    phone.requests.length = 0;
    await sync(phone);
    expect(phone.requests).toEqual([
      'POST /api/v1/devices/token 200',
      'GET /api/v1/sync/pull 200',
      'POST /api/v1/sync/push 200',
    ]);
    expect(await countUnsyncedChanges(phone.db)).toBe(0);

    await outliveAccessToken();
    await sync(tablet);
    expect(await dumpDatabase(tablet.db)).toEqual(await dumpDatabase(phone.db));
    expect((await dumpDatabase(tablet.db)).rounds).toHaveLength(3);
  });

  it('refreshes on a 401 too (a token the clock still thought good), and retries once', async () => {
    const phone = newInstall();
    await phone.account.register();
    await createGame(phone.db);
    // The stored expiry says "good for an hour": only the server knows better.
    const session = (await phone.storage.load())!;
    await phone.storage.save({ ...session, accessTokenExpiresAt: Date.now() + 3_600_000 });
    await outliveAccessToken();
    phone.requests.length = 0;
    await sync(phone);
    expect(phone.requests).toEqual([
      'GET /api/v1/sync/pull 401',
      'POST /api/v1/devices/token 200',
      'GET /api/v1/sync/pull 200',
      'POST /api/v1/sync/push 200',
    ]);
  });

  it('is not locked out by a lost refresh answer', async () => {
    const phone = newInstall();
    await phone.account.register();
    await createGame(phone.db);
    await outliveAccessToken();
    phone.loseNextRefreshAnswer = true;
    await expect(sync(phone)).rejects.toThrow('the connection dropped');
    expect(await countUnsyncedChanges(phone.db)).toBeGreaterThan(0);

    // The stored refresh token is the replaced one: the server takes it again.
    await sync(phone);
    expect(await countUnsyncedChanges(phone.db)).toBe(0);
    expect(refreshes(phone)).toBe(2);
    expect(await phone.account.listDevices()).toHaveLength(1);
  });

  it('runs one refresh for concurrent calls that all need one', async () => {
    const phone = newInstall();
    await phone.account.register();
    await outliveAccessToken();
    phone.requests.length = 0;
    await Promise.all([
      sync(phone),
      phone.account.listDevices(),
      phone.account.createPairingCode(),
    ]);
    expect(refreshes(phone)).toBe(1);
  });

  it('picks up a refresh token with the access token when an older app version stored none', async () => {
    const phone = newInstall();
    await phone.account.register();
    const { refreshToken, ...older } = (await phone.storage.load())!;
    expect(refreshToken).toEqual(expect.any(String));
    await phone.storage.save({ ...older, accessTokenExpiresAt: Date.now() - 1 });
    phone.requests.length = 0;
    await sync(phone);
    expect(phone.requests[0]).toBe('POST /api/v1/devices/token/refresh 200');
    expect((await phone.storage.load())!.refreshToken).toEqual(expect.any(String));
  });

  it('raises DeviceSignedOutError once the device was revoked, keeping the local data', async () => {
    const phone = newInstall();
    await phone.account.register({ name: 'phone' });
    const tablet = newInstall();
    await tablet.account.register({ pairingCode: (await phone.account.createPairingCode()).code });
    await createGame(tablet.db);
    await sync(tablet);
    await phone.account.revokeDevice((await tablet.storage.load())!.deviceId);

    await outliveAccessToken();
    const error = await sync(tablet).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeviceSignedOutError);
    expect((error as Error).message).toBe('This device was signed out; pair it again');
    expect(await tablet.storage.load()).toBeNull();
    expect((await dumpDatabase(tablet.db)).games).toHaveLength(1);
  });
});
