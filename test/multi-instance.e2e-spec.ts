import { Client } from 'pg';
import { Game, GamePlayer, Score } from '../client/models';
import { SyncHttpError, syncDatabase, SyncOptions } from '../client/sync';
import { SYNC_TABLE_NAMES, SYNC_TABLES, wireColumns } from '../src/sync/registry/sync-tables';
import {
  CommitGate,
  Exchange,
  Instance,
  registerDeviceAt,
  RegisteredDevice,
  roundRobinFetch,
  ROUTED_ORIGIN,
  StartInstances,
  startInProcessInstances,
  startProcessInstances,
  syncApiAt,
} from './utils/multi-instance';
import { PullBody } from './utils/sync-api';
import { changes, family, game, player, Rec } from './utils/sync-records';
import {
  countUnsyncedChanges,
  createGame,
  createInstall,
  DatabaseDump,
  dumpDatabase,
  hasUnsynced,
  markDeleted,
  update,
  watchWatermelonLogger,
  addRoundWithScore,
} from './utils/watermelon';

const byId = (x: { id?: unknown }, y: { id?: unknown }) => String(x.id).localeCompare(String(y.id));

/** Every table of a pull is empty: nothing created, updated or deleted. */
function expectNoChanges(body: PullBody) {
  for (const table of SYNC_TABLE_NAMES) {
    expect(body.changes[table]).toEqual({ created: [], updated: [], deleted: [] });
  }
}

/** The live records of a full pull, in dumpDatabase's shape. */
function liveRecordsOf(body: PullBody): DatabaseDump {
  return Object.fromEntries(
    SYNC_TABLE_NAMES.map((table) => [table, [...body.changes[table].updated].sort(byId)]),
  );
}

/**
 * Two instances of the app on one PostgreSQL, each with its own pool, and clients whose requests
 * go to either. Everything that keeps sync correct (the device clock, the push lock, the snapshot
 * a pull reads) lives in PostgreSQL, so nothing may depend on which instance answers.
 */
describe.each<[string, StartInstances]>([
  ['two app instances in this process', startInProcessInstances],
  ['two server processes (src/main.ts)', startProcessInstances],
])('More than one instance: %s (e2e)', (_topology, startInstances) => {
  let instances: Instance[] = [];
  let a: Instance;
  let b: Instance;
  let sql: Client;
  let gates: CommitGate[] = [];

  beforeAll(async () => {
    sql = new Client({ connectionString: process.env.DATABASE_URL });
    await sql.connect();
    instances = await startInstances(['A', 'B']);
    [a, b] = instances;
  });
  afterEach(async () => {
    // Releases anything a failed test left parked before the instances are asked to stop.
    for (const gate of gates) await gate.drop();
    gates = [];
  });
  afterAll(async () => {
    await Promise.all(instances.map((instance) => instance.close()));
    await sql?.end();
  });

  async function commitGate(device: RegisteredDevice): Promise<CommitGate> {
    const gate = await CommitGate.create(sql, device.accountId);
    gates.push(gate);
    return gate;
  }

  /** Per id: how many rows the server holds for the device, and whether it is a tombstone. */
  async function serverRows(accountId: string, table: string) {
    const { rows } = await sql.query<{ id: string; n: number; deleted: boolean }>(
      `SELECT id, count(*)::int AS n, bool_and(deleted_at IS NOT NULL) AS deleted
       FROM ${table} WHERE account_id = $1 GROUP BY id`,
      [accountId],
    );
    return rows.sort(byId);
  }

  /** The device's live rows as wire records, built by PostgreSQL, in dumpDatabase's shape. */
  async function serverLiveData(accountId: string): Promise<DatabaseDump> {
    const dump: DatabaseDump = {};
    for (const table of SYNC_TABLES) {
      const fields = wireColumns(table)
        .map((column) => `'${column}', "${column}"`)
        .join(', ');
      const { rows } = await sql.query<{ records: Array<Record<string, unknown>> }>(
        `SELECT COALESCE(json_agg(json_build_object(${fields})), '[]'::json) AS records
         FROM ${table.name} WHERE account_id = $1 AND deleted_at IS NULL`,
        [accountId],
      );
      dump[table.name] = rows[0].records.sort(byId);
    }
    return dump;
  }

  it('converges 4 WatermelonDB installs of one device whose requests alternate between A and B', async () => {
    const watermelonLog = watchWatermelonLogger();
    try {
      const device = await registerDeviceAt(b);
      const exchanges: Exchange[] = [];
      const installs = [createInstall(), createInstall(), createInstall(), createInstall()];
      const options = installs.map((_, i): SyncOptions => ({
        apiUrl: ROUTED_ORIGIN,
        getToken: () => device.token,
        // Install i starts on instance i % 2; every request then goes to the other one.
        fetch: roundRobinFetch(instances, exchanges, i),
      }));
      /** Two 409s in a row are possible under contention: sync again, as an app would. */
      const syncUntilDone = async (i: number) => {
        for (let attempt = 1; ; attempt++) {
          try {
            return await syncDatabase(installs[i], options[i]);
          } catch (error) {
            if (!(error instanceof SyncHttpError && error.status === 409) || attempt === 10) {
              throw error;
            }
          }
        }
      };

      const f = await createGame(installs[0], ['P0', 'P1', 'P2', 'P3']);
      await syncUntilDone(0);
      await Promise.all(installs.map((_, i) => syncUntilDone(i)));
      const [r1, r2] = f.roundIds;
      const r1Scores = f.scoreIds.slice(0, 4);
      const r2Scores = f.scoreIds.slice(4);

      const ROUNDS = 3;
      const createdRounds: string[] = [];
      const createdScores: string[][] = installs.map(() => []);
      for (let n = 1; n <= ROUNDS; n++) {
        await Promise.all(
          installs.map(async (db, i) => {
            // Every install edits the shared game (conflicts), its own player, adds a round
            // with a score, and deletes the score it added in the previous round.
            await update<Game>(db, 'games', f.gameId, (g) => (g.targetScore = 1000 * n + i));
            await update<GamePlayer>(db, 'game_players', f.playerIds[i], (p) => {
              p.currentTotal += 10;
            });
            const { round, score } = await addRoundWithScore(db, {
              gameId: f.gameId,
              playerId: f.playerIds[i],
              roundNumber: 10 * n + i,
              points: n,
            });
            createdRounds.push(round.id);
            createdScores[i].push(score.id);
            if (n > 1) await markDeleted(db, 'scores', createdScores[i][n - 2]);
            if (n === 2 && i === 0) {
              // Only the round row: its scores go by the server's cascade.
              await markDeleted(db, 'rounds', r1);
            }
            if (n === 2 && i === 1) {
              // A score of that round, edited concurrently: the deletion wins whichever lands first.
              await update<Score>(db, 'scores', r1Scores[1], (s) => (s.rawScore = 77));
            }
            await syncUntilDone(i);
          }),
        );
      }
      // Everything is pushed; two more passes let every install pull what the others pushed last.
      for (const i of installs.keys()) await syncUntilDone(i);
      for (const i of installs.keys()) await syncUntilDone(i);

      // Every install identical, nothing left to push.
      const dump = await dumpDatabase(installs[0]);
      for (const db of installs) {
        expect(await dumpDatabase(db)).toEqual(dump);
        expect(await countUnsyncedChanges(db)).toBe(0);
        expect(await hasUnsynced(db)).toBe(false);
      }
      // ... equal to the server's live rows, and to a full pull through either instance.
      expect(await serverLiveData(device.accountId)).toEqual(dump);
      const viaA = syncApiAt(a, device);
      const viaB = syncApiAt(b, device);
      const [fullA, fullB] = [await viaA.pullOk(), await viaB.pullOk()];
      expect(liveRecordsOf(fullA)).toEqual(dump);
      expect(liveRecordsOf(fullB)).toEqual(dump);
      expect(fullB.timestamp).toBe(fullA.timestamp);

      // The expected content: nothing missed, nothing resurrected.
      expect(dump.games).toHaveLength(1);
      expect([3000, 3001, 3002, 3003]).toContain(dump.games[0].target_score);
      expect(dump.game_players.map((p) => p.current_total)).toEqual([30, 30, 30, 30]);
      const lastScores = createdScores.map((ids) => ids[ROUNDS - 1]);
      // Tables the scenario never writes must stay empty.
      const expected: Record<string, { live: string[]; deleted: string[] }> = {
        games: { live: [f.gameId], deleted: [] },
        game_players: { live: f.playerIds, deleted: [] },
        rounds: { live: [r2, ...createdRounds], deleted: [r1] },
        scores: {
          live: [...r2Scores, ...lastScores],
          deleted: [...r1Scores, ...createdScores.flatMap((ids) => ids.slice(0, ROUNDS - 1))],
        },
      };
      expect(createdRounds).toHaveLength(ROUNDS * installs.length);
      for (const table of SYNC_TABLE_NAMES) {
        const { live, deleted } = expected[table] ?? { live: [], deleted: [] };
        const sorted = (ids: string[]) => [...ids].sort((x, y) => x.localeCompare(y));
        expect(dump[table].map((record) => record.id)).toEqual(sorted(live));
        // One row per (account_id, id), tombstones included: no duplicates on the server.
        const rows = await serverRows(device.accountId, table);
        expect(rows.filter((row) => row.n !== 1)).toEqual([]);
        expect(rows.filter((row) => !row.deleted).map((row) => row.id)).toEqual(sorted(live));
        expect(rows.filter((row) => row.deleted).map((row) => row.id)).toEqual(sorted(deleted));
      }

      // Both instances really served this device: pulls and accepted pushes on each.
      for (const name of ['A', 'B']) {
        for (const kind of ['pull', 'push']) {
          expect(exchanges).toContainEqual({ instance: name, kind, status: 200 });
        }
      }
      expect(exchanges.filter((e) => e.status !== 200 && e.status !== 409)).toEqual([]);
      // Exactly one accepted push per install and round (plus the first one): a retried sync
      // pushes again only after a 409, and the final passes have nothing left to push.
      const accepted = exchanges.filter((e) => e.kind === 'push' && e.status === 200);
      expect(accepted).toHaveLength(1 + ROUNDS * installs.length);
      // e.g. "[Sync] Server wants client to create record ..." or a timestamp going backwards
      expect(watermelonLog.problems).toEqual([]);
    } finally {
      watermelonLog.restore();
    }
  });

  it('a push held at COMMIT on A is returned by the next pull on B', async () => {
    const device = await registerDeviceAt(a);
    const viaA = syncApiAt(a, device);
    const viaB = syncApiAt(b, device);
    const before = await viaB.pullOk();
    const gate = await commitGate(device);
    await gate.hold();

    // A record in every table, so that a row written twice or missed anywhere would show.
    const records = family();
    const inEveryTable = (array: 'created' | 'updated') =>
      Object.fromEntries(Object.entries(records).map(([table, r]) => [table, { [array]: [r] }]));
    const pushing = viaA.push(inEveryTable('created'), before.timestamp);
    await gate.waitUntil({ parked: 1, blocked: 0 }, [pushing]);

    // The push has written and stamped its rows on A but not committed: neither instance sees
    // them, and both answer a timestamp that the push's stamp is above.
    const duringB = await viaB.pullOk(before.timestamp);
    const duringA = await viaA.pullOk(before.timestamp);
    expectNoChanges(duringB);
    expectNoChanges(duringA);
    expect(duringB.timestamp).toBeGreaterThanOrEqual(before.timestamp);
    expect(await gate.waiting()).toEqual({ parked: 1, blocked: 0 }); // still held

    await gate.release();
    expect((await pushing).status).toBe(200);

    const after = await viaB.pullOk(duringB.timestamp);
    expect(after.changes).toEqual(changes(inEveryTable('updated')));
    expect(after.timestamp).toBeGreaterThan(duringB.timestamp);
    // A's own view agrees, and the rows come exactly once: the following pull is empty.
    expect((await viaA.pullOk(duringA.timestamp)).changes).toEqual(after.changes);
    const next = await viaB.pullOk(after.timestamp);
    expectNoChanges(next);
    expect(next.timestamp).toBe(after.timestamp);
    for (const table of SYNC_TABLE_NAMES) {
      expect((await serverRows(device.accountId, table)).map((row) => row.n)).toEqual([1]);
    }
  });

  describe('two pushes of one device, through A and B at the same time, same record and last_pulled_at', () => {
    /** A device with one game on the server, and a timestamp both pushes will use. */
    async function setUp() {
      const device = await registerDeviceAt(a);
      const original = game({ name: 'Original' });
      const viaA = syncApiAt(a, device);
      const viaB = syncApiAt(b, device);
      await viaA.pushOk({ games: { created: [original] } }, (await viaA.pullOk()).timestamp);
      const { timestamp } = await viaB.pullOk();
      const gate = await commitGate(device);
      /** Each push changes the game its own way and adds a player of its own. */
      const pushOf = (api: typeof viaA, targetScore: number) => {
        const values: Rec = {
          ...original,
          name: `From ${api.instance.name}`,
          target_score: targetScore,
        };
        const newPlayer = player(original.id, { name: `Only if ${api.instance.name} won` });
        return {
          api,
          values,
          newPlayer,
          send: () =>
            api.push(
              { games: { updated: [values] }, game_players: { created: [newPlayer] } },
              timestamp,
            ),
        };
      };
      return {
        device,
        original,
        timestamp,
        gate,
        pushA: pushOf(viaA, 111),
        pushB: pushOf(viaB, 222),
      };
    }

    type Push = Awaited<ReturnType<typeof setUp>>['pushA'];

    /** Exactly one was applied, and it is the one that answered 200. */
    async function expectOnlyApplied(
      device: RegisteredDevice,
      since: number,
      winner: Push,
      loser: Push,
      loserResponse: { status: number; body: Record<string, unknown> },
    ) {
      expect(loserResponse.status).toBe(409);
      expect(loserResponse.body.conflicts).toEqual([{ table: 'games', id: winner.values.id }]);
      for (const api of [winner.api, loser.api]) {
        const pulled = await api.pullOk(since);
        expect(pulled.changes.games).toEqual({
          created: [],
          updated: [winner.values],
          deleted: [],
        });
        expect(pulled.changes.game_players).toEqual({
          created: [],
          updated: [winner.newPlayer],
          deleted: [],
        });
      }
      const { rows } = await sql.query(
        `SELECT (SELECT count(*)::int FROM games WHERE account_id = $1) AS games,
                (SELECT name FROM games WHERE account_id = $1) AS name,
                (SELECT target_score FROM games WHERE account_id = $1) AS target_score,
                (SELECT array_agg(id) FROM game_players WHERE account_id = $1) AS players`,
        [device.accountId],
      );
      expect(rows[0]).toEqual({
        games: 1,
        name: winner.values.name,
        target_score: winner.values.target_score,
        players: [winner.newPlayer.id],
      });
      // The client's way out: pull again, push again.
      const { timestamp } = await loser.api.pullOk(since);
      expect((await loser.api.push({ games: { updated: [loser.values] } }, timestamp)).status).toBe(
        200,
      );
      expect((await winner.api.pullOk(timestamp)).changes.games.updated).toEqual([loser.values]);
    }

    it.each(['A', 'B'])(
      'the first to reach the device lock (%s) gets 200, the one queued behind it 409',
      async (first) => {
        const { device, timestamp, gate, pushA, pushB } = await setUp();
        const [winner, loser] = first === 'A' ? [pushA, pushB] : [pushB, pushA];
        await gate.hold();
        const winning = winner.send();
        await gate.waitUntil({ parked: 1, blocked: 0 }, [winning]);
        const losing = loser.send();
        // The second push waits on the device row, locked by the first (parked at COMMIT).
        await gate.waitUntil({ parked: 1, blocked: 1 }, [winning, losing]);
        await gate.release();
        const [won, lost] = await Promise.all([winning, losing]);
        expect(won.status).toBe(200);
        await expectOnlyApplied(device, timestamp, winner, loser, lost);
      },
    );

    it('sent together: exactly one 200 and one 409, and the server holds the 200 values', async () => {
      const { device, timestamp, gate, pushA, pushB } = await setUp();
      await gate.hold();
      const sending = [pushA.send(), pushB.send()];
      // Both in flight before either may commit: one parked at COMMIT, one queued behind it.
      await gate.waitUntil({ parked: 1, blocked: 1 }, sending);
      await gate.release();
      const [responseA, responseB] = await Promise.all(sending);
      expect([responseA.status, responseB.status].sort()).toEqual([200, 409]);
      const [winner, loser, lost] =
        responseA.status === 200 ? [pushA, pushB, responseB] : [pushB, pushA, responseA];
      await expectOnlyApplied(device, timestamp, winner, loser, lost);
    });
  });
});
