import EventSource from 'eventsource';
import { AccountClient, memorySessionStorage } from '../client/account';
import { watchChanges } from '../client/events';
import { syncDatabase } from '../client/sync';
import {
  addRoundWithScore,
  createGame,
  createInstall,
  dumpDatabase,
  ListeningApp,
  startListeningApp,
  failOnWatermelonProblems,
} from './utils/watermelon';

const until = async (what: string, check: () => Promise<boolean>, timeoutMs = 5_000) => {
  for (const deadline = Date.now() + timeoutMs; !(await check());) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe('watchChanges: a phone syncs when another device of its account pushed (e2e)', () => {
  let server: ListeningApp;
  beforeAll(async () => (server = await startListeningApp()));
  afterAll(() => server.close());

  failOnWatermelonProblems();

  it("brings B's pushes to A through the stream alone, a burst of ten in a few syncs", async () => {
    const a = {
      db: createInstall(),
      account: new AccountClient({ apiUrl: server.baseUrl, storage: memorySessionStorage() }),
    };
    const b = {
      db: createInstall(),
      account: new AccountClient({ apiUrl: server.baseUrl, storage: memorySessionStorage() }),
    };
    await a.account.register({ name: 'A' });
    await b.account.register({ pairingCode: (await a.account.createPairingCode()).code });

    // A only ever syncs when the stream says so (and once as it connects).
    let syncsOfA = 0;
    const errors: unknown[] = [];
    const watch = watchChanges(a.db, {
      ...a.account.syncOptions(),
      EventSource: EventSource,
      onSync: () => syncsOfA++,
      onError: (error) => errors.push(error),
    });
    try {
      await until('A connected and did its first sync', async () => syncsOfA === 1);

      const f = await createGame(b.db);
      await syncDatabase(b.db, b.account.syncOptions());
      await until('the game reached A', async () =>
        (await dumpDatabase(a.db)).games.some((g) => g.id === f.gameId),
      );
      await until('A finished that sync', async () => syncsOfA === 2);

      for (let round = 3; round < 13; round++) {
        await addRoundWithScore(b.db, {
          gameId: f.gameId,
          playerId: f.playerIds[0],
          roundNumber: round,
          points: round,
        });
        await syncDatabase(b.db, b.account.syncOptions());
      }
      await until(
        'the ten rounds reached A',
        async () => (await dumpDatabase(a.db)).rounds.length === 12,
      );
      // Let any sync still owed run, then compare.
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await dumpDatabase(a.db)).toEqual(await dumpDatabase(b.db));
      expect(syncsOfA - 2).toBeGreaterThanOrEqual(1);
      expect(syncsOfA - 2).toBeLessThanOrEqual(4);
      expect(errors).toEqual([]);
    } finally {
      watch.stop();
    }

    // Stopped: B's next push stays on the server until A syncs by itself.
    const after = syncsOfA;
    await createGame(b.db, ['Zoé']);
    await syncDatabase(b.db, b.account.syncOptions());
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(syncsOfA).toBe(after);
  });
});
