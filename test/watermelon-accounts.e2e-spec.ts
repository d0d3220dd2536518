import { Database } from '@nozbe/watermelondb';
import { AccountClient, DeviceSignedOutError, memorySessionStorage } from '../client/account';
import { Game } from '../client/models';
import { SyncHttpError, syncDatabase } from '../client/sync';
import { TombstonePurgeService } from '../src/sync/purge/tombstone-purge.service';
import {
  addRoundWithScore,
  countUnsyncedChanges,
  createGame,
  createInstall,
  dumpDatabase,
  markDeleted,
  ListeningApp,
  startListeningApp,
  update,
  failOnWatermelonProblems,
} from './utils/watermelon';

/**
 * One app install: its local database and its device identity (client/account.ts). `beforePush`,
 * when set, runs once before the install's next push goes out.
 */
type Install = {
  db: Database;
  account: AccountClient;
  exchanges: string[];
  beforePush?: () => Promise<void>;
  /** Set to see the body of each pull. */
  onPull?: (body: Record<string, unknown>) => void;
};

describe('WatermelonDB installs of one account: pairing and restore (e2e)', () => {
  let server: ListeningApp;
  beforeAll(async () => (server = await startListeningApp()));
  afterAll(() => server.close());

  failOnWatermelonProblems();

  /** A fresh install whose requests are recorded as "pull 200", "push 409", ... */
  function newInstall(): Install {
    const install: Install = { db: createInstall(), exchanges: [] } as unknown as Install;
    install.account = new AccountClient({
      apiUrl: server.baseUrl,
      storage: memorySessionStorage(),
      fetch: async (input, init) => {
        const url = String(input instanceof Request ? input.url : input);
        const hook = install.beforePush;
        if (url.includes('/sync/push') && hook) {
          install.beforePush = undefined;
          await hook();
        }
        const response = await fetch(input, init);
        if (url.includes('/sync/pull') && install.onPull) {
          install.onPull((await response.clone().json()) as Record<string, unknown>);
        }
        if (url.includes('/sync/')) {
          install.exchanges.push(
            `${url.includes('/sync/push') ? 'push' : 'pull'} ${response.status}`,
          );
        }
        return response;
      },
    });
    return install;
  }

  const sync = (install: Install) => syncDatabase(install.db, install.account.syncOptions());

  async function expectConverged(...installs: Install[]) {
    const first = await dumpDatabase(installs[0].db);
    for (const { db } of installs) {
      expect(await dumpDatabase(db)).toEqual(first);
      expect(await countUnsyncedChanges(db)).toBe(0);
    }
    return first;
  }

  it('pairs a tablet with a phone: the tablet gets the games, and both sync both ways', async () => {
    const phone = newInstall();
    await phone.account.register({ name: 'phone', platform: 'ios' });
    const f = await createGame(phone.db);
    await sync(phone);

    const { code } = await phone.account.createPairingCode();
    const tablet = newInstall();
    const session = await tablet.account.register({ name: 'tablet', pairingCode: code });
    expect(session.accountId).toBe((await phone.account.session())!.accountId);
    await sync(tablet);
    expect((await dumpDatabase(tablet.db)).games.map((g) => g.id)).toEqual([f.gameId]);

    // The tablet scores a round; the phone ends the game; each syncs, then the phone again.
    await addRoundWithScore(tablet.db, {
      gameId: f.gameId,
      playerId: f.playerIds[0],
      roundNumber: 3,
      points: 40,
    });
    await update<Game>(phone.db, 'games', f.gameId, (g) => void (g.status = 'finished'));
    await sync(tablet);
    await sync(phone);
    await sync(tablet);
    const dump = await expectConverged(phone, tablet);
    expect(dump.rounds).toHaveLength(3);
    expect(dump.games[0].status).toBe('finished');

    const devices = await tablet.account.listDevices();
    expect(devices.map((d) => [d.name, d.current])).toEqual([
      ['phone', false],
      ['tablet', true],
    ]);
  });

  it('two paired phones editing one game: the 409 makes the second merge, and no edit is lost', async () => {
    const a = newInstall();
    await a.account.register({ name: 'a' });
    const f = await createGame(a.db);
    await sync(a);
    const b = newInstall();
    await b.account.register({
      name: 'b',
      pairingCode: (await a.account.createPairingCode()).code,
    });
    await sync(b);

    // Offline, each changes a different column of the same game.
    await update<Game>(a.db, 'games', f.gameId, (g) => void (g.name = 'Renamed on A'));
    await update<Game>(b.db, 'games', f.gameId, (g) => void (g.targetScore = 1000));
    // A's sync lands between B's pull and B's push: B's push would overwrite A's name.
    b.beforePush = async () => void (await sync(a));
    b.exchanges.length = 0;
    await sync(b);
    // So it is refused (409); B pulls A's change into its record (its own column kept) and
    // pushes again.
    expect(b.exchanges).toEqual(['pull 200', 'push 409', 'pull 200', 'push 200']);
    await sync(a);

    const dump = await expectConverged(a, b);
    expect(dump.games[0]).toMatchObject({ name: 'Renamed on A', target_score: 1000 });
  });

  it('restores the account on a new phone with the recovery code, and revokes the lost one', async () => {
    const lost = newInstall();
    await lost.account.register({ name: 'lost phone' });
    await createGame(lost.db);
    await sync(lost);
    const recoveryCode = await lost.account.createRecoveryCode();

    const restored = newInstall();
    await restored.account.register({ name: 'new phone', recoveryCode });
    await sync(restored);
    await expectConverged(lost, restored);

    const [old] = (await restored.account.listDevices()).filter((d) => !d.current);
    await restored.account.revokeDevice(old.deviceId);
    // Its access token is refused, and so is its refresh token: signed out, session cleared.
    const refused = await sync(lost).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DeviceSignedOutError);
    expect((refused as Error).message).toBe('This device was signed out; pair it again');
    expect(await lost.account.session()).toBeNull();
    // The account keeps its data: a third install restored with the same code gets it all.
    const again = newInstall();
    await again.account.register({ recoveryCode });
    await sync(again);
    await expectConverged(restored, again);
  });

  it('refuses a mistyped pairing code with 403 and stores no session', async () => {
    const install = newInstall();
    const error = await install.account
      .register({ pairingCode: 'ABCD-EFGH-JKMN' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SyncHttpError);
    expect((error as SyncHttpError).status).toBe(403);
    expect(await install.account.session()).toBeNull();
  });

  it('brings an install back after a long absence: the purge makes its pull a replacement', async () => {
    const phone = newInstall();
    await phone.account.register({ name: 'phone' });
    const doomed = await createGame(phone.db);
    const kept = await createGame(phone.db, ['Chloé', 'Dmitri']);
    await sync(phone);
    const tablet = newInstall();
    await tablet.account.register({ pairingCode: (await phone.account.createPairingCode()).code });
    await sync(tablet);

    // The tablet goes offline and plays a new game; meanwhile the phone deletes a game, and
    // its tombstones (the game and its players, rounds, scores) are purged.
    const played = await createGame(tablet.db, ['Eve', 'Finn']);
    await markDeleted(phone.db, 'games', doomed.gameId);
    await sync(phone);
    for (const table of ['games', 'game_players', 'rounds', 'scores']) {
      await server.dataSource.query(
        `UPDATE "${table}" SET deleted_at = now() - interval '91 days' WHERE deleted_at IS NOT NULL`,
      );
    }
    expect(await server.app.get(TombstonePurgeService).purge()).toBeGreaterThanOrEqual(9);

    const strategies: unknown[] = [];
    tablet.onPull = (body) => strategies.push(body.experimentalStrategy);
    await sync(tablet);
    expect(strategies).toEqual(['replacement']);
    await sync(phone);
    const dump = await expectConverged(phone, tablet);
    expect(dump.games.map((g) => g.id).sort()).toEqual([kept.gameId, played.gameId].sort());
    expect(dump.game_players).toHaveLength(4);
    expect(dump.scores).toHaveLength(8);
    expect(dump.scores.filter((score) => doomed.scoreIds.includes(score.id as string))).toEqual([]);
  });
});
