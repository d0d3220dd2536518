import { Database } from '@nozbe/watermelondb';
import { Game, GamePlayer, Score } from '../client/models';
import { SyncHttpError, syncDatabase, SyncOptions } from '../client/sync';
import { SYNC_TABLE_NAMES } from '../src/sync/registry/sync-tables';
import { syncApi } from './utils/sync-api';
import { game } from './utils/sync-records';
import { registerDevice } from './utils/test-app';
import {
  countUnsyncedChanges,
  createGame,
  createInstall,
  ENDED_AT,
  markDeleted,
  ROUND_AT,
  STARTED_AT,
  update,
  dumpDatabase,
  hasUnsynced,
  ListeningApp,
  startListeningApp,
  failOnWatermelonProblems,
  addRoundWithScore,
} from './utils/watermelon';

/** Wraps the real fetch: records "pull 200" / "push 409" and can interfere with the first push. */
function instrumentedFetch(
  exchanges: string[],
  hooks: { beforeFirstPush?: () => Promise<void>; loseFirstPushResponse?: boolean } = {},
): typeof fetch {
  let pushes = 0;
  return async (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const kind = url.includes('/sync/push') ? 'push' : 'pull';
    const isFirstPush = kind === 'push' && ++pushes === 1;
    if (isFirstPush && hooks.beforeFirstPush) await hooks.beforeFirstPush();
    const response = await fetch(input, init);
    exchanges.push(`${kind} ${response.status}`);
    if (isFirstPush && hooks.loseFirstPushResponse) {
      await response.arrayBuffer(); // the server has answered; only the client never hears it
      throw new TypeError('fetch failed: connection reset while reading the push response');
    }
    return response;
  };
}

async function expectConverged(...installs: Database[]) {
  const first = await dumpDatabase(installs[0]);
  for (const install of installs) {
    expect(await dumpDatabase(install)).toEqual(first);
    expect(await countUnsyncedChanges(install)).toBe(0);
    expect(await hasUnsynced(install)).toBe(false);
  }
  return first;
}

describe('WatermelonDB installs syncing through client/sync.ts (e2e)', () => {
  let server: ListeningApp;

  beforeAll(async () => {
    server = await startListeningApp();
  });
  afterAll(() => server.close());

  failOnWatermelonProblems();

  /** A registered device and the sync options of every install that shares its token. */
  async function newDevice() {
    const device = await registerDevice(server, 'watermelon phone');
    const options: SyncOptions = { apiUrl: server.baseUrl, getToken: () => device.token };
    return { deviceId: device.deviceId, accountId: device.accountId, options };
  }

  it('gives a fresh install a first sync that came streamed (chunked) and compressed, every record intact', async () => {
    const device = await registerDevice(server, 'watermelon phone');
    const games = Array.from({ length: 3000 }, (_, i) =>
      game({ name: `Partie ${i} — 🍉 «${'é'.repeat(20)}»` }),
    );
    await syncApi(server, device).pushOk({ games: { created: games } });

    const encodings: Array<string | null> = [];
    // fetch asks for compression by itself and inflates the answer (React Native's does too).
    const compressions: Array<string | null> = [];
    const b = createInstall();
    await syncDatabase(b, {
      apiUrl: server.baseUrl,
      getToken: () => device.token,
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        encodings.push(response.headers.get('transfer-encoding'));
        compressions.push(response.headers.get('content-encoding'));
        return response;
      },
    });
    expect(encodings[0]).toBe('chunked');
    expect(compressions[0]).toMatch(/^(br|gzip)$/);
    const dump = await dumpDatabase(b);
    const byId = (records: Array<Record<string, unknown>>) =>
      [...records].sort((x, y) => String(x.id).localeCompare(String(y.id)));
    expect(byId(dump.games)).toEqual(byId(games));
    expect(await countUnsyncedChanges(b)).toBe(0);
  });

  it('gives a fresh install exactly what another install pushed', async () => {
    const { options } = await newDevice();
    const a = createInstall();
    const f = await createGame(a);
    await update<Game>(a, 'games', f.gameId, (g) => {
      g.status = 'finished';
      g.winnerId = f.playerIds[1];
      g.endedAt = new Date(ENDED_AT);
    });
    await syncDatabase(a, options);

    const b = createInstall();
    await syncDatabase(b, options);
    const dump = await expectConverged(a, b);
    expect(dump.games).toEqual([
      {
        id: f.gameId,
        name: 'Friday night',
        target_score: 500,
        status: 'finished',
        winner_id: f.playerIds[1],
        started_at: STARTED_AT,
        ended_at: ENDED_AT,
      },
    ]);
    expect(dump.game_players).toEqual(
      expect.arrayContaining([
        { id: f.playerIds[0], game_id: f.gameId, name: 'Ana', position: 1, current_total: 0 },
        { id: f.playerIds[1], game_id: f.gameId, name: 'Ben', position: 2, current_total: 0 },
      ]),
    );
    expect(dump.game_players).toHaveLength(2);
    expect(dump.rounds).toEqual(
      expect.arrayContaining(
        f.roundIds.map((id, i) => ({
          id,
          game_id: f.gameId,
          round_number: i + 1,
          caller_id: f.playerIds[0],
          created_at: ROUND_AT + i + 1,
        })),
      ),
    );
    expect(dump.rounds).toHaveLength(2);
    expect(dump.scores.find((s) => s.id === f.scoreIds[2])).toEqual({
      id: f.scoreIds[2],
      round_id: f.roundIds[1],
      player_id: f.playerIds[0],
      raw_score: 20,
      bonus_applied: 5,
      final_score: 25,
      total_after: -25,
    });
    expect(dump.scores).toHaveLength(4);
    // The models read the pulled columns back: dates are real Dates of the same instant.
    const gameOnB = await b.get<Game>('games').find(f.gameId);
    expect(gameOnB.startedAt.getTime()).toBe(STARTED_AT);
    expect(gameOnB.endedAt?.getTime()).toBe(ENDED_AT);
    expect(await gameOnB.players.fetchCount()).toBe(2);
  });

  it('propagates edits and deletes both ways', async () => {
    const { options } = await newDevice();
    const [a, b] = [createInstall(), createInstall()];
    const f = await createGame(a);
    await syncDatabase(a, options);
    await syncDatabase(b, options);

    await update<Game>(b, 'games', f.gameId, (g) => (g.name = 'Renamed on B'));
    await update<Score>(b, 'scores', f.scoreIds[0], (s) => (s.rawScore = 99));
    await markDeleted(b, 'scores', f.scoreIds[1]);
    await update<GamePlayer>(a, 'game_players', f.playerIds[1], (p) => (p.name = 'Benedict'));
    await markDeleted(a, 'scores', f.scoreIds[3]);
    await syncDatabase(b, options);
    await syncDatabase(a, options);
    await syncDatabase(b, options);

    const dump = await expectConverged(a, b);
    expect(dump.games[0]).toMatchObject({ id: f.gameId, name: 'Renamed on B' });
    expect(dump.game_players.find((p) => p.id === f.playerIds[1])?.name).toBe('Benedict');
    expect(dump.scores.map((s) => s.id).sort()).toEqual([f.scoreIds[0], f.scoreIds[2]].sort());
    expect(dump.scores.find((s) => s.id === f.scoreIds[0])?.raw_score).toBe(99);
  });

  it("deleting a game on one install removes its players, rounds and scores from the other's", async () => {
    const { accountId, options } = await newDevice();
    const [a, b] = [createInstall(), createInstall()];
    const doomed = await createGame(a);
    const kept = await createGame(a, ['Cy']);
    await syncDatabase(a, options);
    await syncDatabase(b, options);

    // Only the game row is marked deleted: the children must go by the server's cascade.
    await markDeleted(a, 'games', doomed.gameId);
    await syncDatabase(a, options);
    await syncDatabase(b, options);

    const onB = await dumpDatabase(b);
    expect(onB.games.map((g) => g.id)).toEqual([kept.gameId]);
    expect(onB.game_players.map((p) => p.id)).toEqual(kept.playerIds);
    expect(onB.rounds.map((r) => r.id).sort()).toEqual([...kept.roundIds].sort());
    expect(onB.scores.map((s) => s.id).sort()).toEqual([...kept.scoreIds].sort());
    // A held the children locally; its next pull brings their tombstones.
    await syncDatabase(a, options);
    expect(await expectConverged(a, b)).toEqual(onB);
    const [{ live }] = await server.dataSource.query(
      `SELECT count(*)::int AS live FROM scores WHERE account_id = $1 AND deleted_at IS NULL`,
      [accountId],
    );
    expect(live).toBe(kept.scoreIds.length);
  });

  it('answers 409 to a push racing a concurrent change, and both installs converge after the retry', async () => {
    const { options } = await newDevice();
    const [a, b] = [createInstall(), createInstall()];
    const f = await createGame(a);
    await syncDatabase(a, options);
    await syncDatabase(b, options);

    await update<Game>(b, 'games', f.gameId, (g) => (g.name = 'Name from B'));
    const exchanges: string[] = [];
    const fetchForB = instrumentedFetch(exchanges, {
      // After B pulled and before its push lands, A changes the same game and syncs it.
      beforeFirstPush: async () => {
        await update<Game>(a, 'games', f.gameId, (g) => (g.targetScore = 1000));
        await syncDatabase(a, options);
      },
    });
    await syncDatabase(b, { ...options, fetch: fetchForB });
    await syncDatabase(a, options);

    expect(exchanges).toEqual(['pull 200', 'push 409', 'pull 200', 'push 200']);
    const dump = await expectConverged(a, b);
    // WatermelonDB merges per column: B's name on top of A's target score.
    expect(dump.games[0]).toMatchObject({ name: 'Name from B', target_score: 1000 });
  });

  it('leaves no duplicate when a push response is lost and the sync is retried', async () => {
    const { accountId, options } = await newDevice();
    const [a, b] = [createInstall(), createInstall()];
    await syncDatabase(a, options);
    await syncDatabase(b, options);
    const f = await createGame(b);

    const exchanges: string[] = [];
    const lossyFetch = instrumentedFetch(exchanges, { loseFirstPushResponse: true });
    await expect(syncDatabase(b, { ...options, fetch: lossyFetch })).rejects.toThrow(
      /connection reset/,
    );
    expect(exchanges).toEqual(['pull 200', 'push 200']);
    expect(await countUnsyncedChanges(b)).toBe(9); // nothing was marked as synced

    await syncDatabase(b, { ...options, fetch: lossyFetch }); // later pushes get through
    await syncDatabase(a, options);
    const dump = await expectConverged(a, b);
    const expectedIds: Record<string, string[]> = {
      games: [f.gameId],
      game_players: f.playerIds,
      rounds: f.roundIds,
      scores: f.scoreIds,
    };
    for (const table of SYNC_TABLE_NAMES) {
      const ids = expectedIds[table] ?? []; // tables the game never writes stay empty
      const rows: Array<{ id: string; n: number }> = await server.dataSource.query(
        `SELECT id, count(*)::int AS n FROM ${table} WHERE account_id = $1 GROUP BY id ORDER BY id`,
        [accountId],
      );
      expect(rows.map((row) => row.id).sort()).toEqual([...ids].sort());
      expect(rows.every((row) => row.n === 1)).toBe(true);
      expect(dump[table]).toHaveLength(ids.length);
    }
  });

  it('converges several installs syncing concurrently', async () => {
    const { options } = await newDevice();
    const installs = [createInstall(), createInstall(), createInstall(), createInstall()];
    const f = await createGame(installs[0], ['P0', 'P1', 'P2', 'P3']);
    await syncDatabase(installs[0], options);
    for (const install of installs) await syncDatabase(install, options);

    /** Two 409s in a row are possible under contention: sync again, as an app would. */
    const syncUntilDone = async (db: Database) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await syncDatabase(db, options);
        } catch (error) {
          if (!(error instanceof SyncHttpError && error.status === 409) || attempt === 10)
            throw error;
        }
      }
    };

    const ROUNDS = 3;
    for (let n = 1; n <= ROUNDS; n++) {
      await Promise.all(
        installs.map(async (db, i) => {
          // Every install edits the shared game (conflicts), its own player, and adds a round.
          await update<Game>(db, 'games', f.gameId, (g) => (g.targetScore = 1000 * n + i));
          await update<GamePlayer>(db, 'game_players', f.playerIds[i], (p) => {
            p.currentTotal += 10;
          });
          await addRoundWithScore(db, {
            gameId: f.gameId,
            playerId: f.playerIds[i],
            roundNumber: 10 * n + i,
            points: n,
          });
          await syncUntilDone(db);
        }),
      );
    }
    // Everything is pushed; one more pass lets every install pull what the others pushed last.
    for (const db of installs) await syncUntilDone(db);
    for (const db of installs) await syncUntilDone(db);

    const dump = await expectConverged(...installs);
    expect(dump.game_players.map((p) => p.current_total)).toEqual([30, 30, 30, 30]);
    expect(dump.rounds).toHaveLength(2 + ROUNDS * installs.length);
    expect(dump.scores).toHaveLength(4 * 2 + ROUNDS * installs.length);
    expect([3000, 3001, 3002, 3003]).toContain(dump.games[0].target_score);
  });

  it('runs one sync at a time per install: a call during a sync shares its promise', async () => {
    const { options } = await newDevice();
    const db = createInstall();
    await createGame(db);
    const exchanges: string[] = [];
    const withLog = { ...options, fetch: instrumentedFetch(exchanges) };

    const first = syncDatabase(db, withLog);
    const second = syncDatabase(db, withLog);
    expect(second).toBe(first);
    await first;
    expect(exchanges).toEqual(['pull 200', 'push 200']);
    await syncDatabase(db, withLog); // once settled, a new call syncs again
    expect(exchanges).toEqual(['pull 200', 'push 200', 'pull 200']);
  });

  describe('a revoked device', () => {
    async function revokedDeviceWithData() {
      const { deviceId, options } = await newDevice();
      const db = createInstall();
      await createGame(db);
      await syncDatabase(db, options);
      await server.dataSource.query('UPDATE devices SET revoked_at = now() WHERE id = $1', [
        deviceId,
      ]);
      await update<Game>(db, 'games', (await db.get('games').query().fetchIds())[0], (g) => {
        g.status = 'abandoned';
      });
      return { db, options };
    }

    it('makes the sync throw a 401 SyncHttpError and keeps the local changes', async () => {
      const { db, options } = await revokedDeviceWithData();
      const error: unknown = await syncDatabase(db, options).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SyncHttpError);
      expect(error).toMatchObject({ status: 401, message: expect.stringMatching(/401.*revoked/) });
      expect(await countUnsyncedChanges(db)).toBe(1);
    });

    it('asks onUnauthorized, and retries once with the token it returns', async () => {
      const { db, options } = await revokedDeviceWithData();
      const giveUp = jest.fn(async () => undefined);
      await expect(syncDatabase(db, { ...options, onUnauthorized: giveUp })).rejects.toMatchObject({
        status: 401,
      });
      expect(giveUp).toHaveBeenCalledTimes(1);
      expect(giveUp).toHaveBeenCalledWith(expect.any(SyncHttpError));

      // A fresh install (nothing pulled yet) can switch to a newly registered device.
      const replacement = await newDevice();
      const fresh = createInstall();
      const f = await createGame(fresh);
      const exchanges: string[] = [];
      const reRegister = jest.fn(async () => replacement.options.getToken());
      await syncDatabase(fresh, {
        ...options,
        fetch: instrumentedFetch(exchanges),
        onUnauthorized: reRegister,
      });
      expect(reRegister).toHaveBeenCalledTimes(1);
      expect(exchanges).toEqual(['pull 401', 'pull 200', 'push 200']);
      const [{ n }] = await server.dataSource.query(
        'SELECT count(*)::int AS n FROM games WHERE account_id = $1 AND id = $2',
        [replacement.accountId, f.gameId],
      );
      expect(n).toBe(1);
    });
  });
});
