import type { AddressInfo } from 'node:net';
import { Database, Model, Q } from '@nozbe/watermelondb';
import LokiJSAdapter from '@nozbe/watermelondb/adapters/lokijs';
import { hasUnsyncedChanges } from '@nozbe/watermelondb/sync';
import logger from '@nozbe/watermelondb/utils/common/logger';
import { Game, GamePlayer, modelClasses, Round, Score } from '../../client/models';
import { migrations, schema } from '../../client/schema';
import { SYNC_TABLE_NAMES } from '../../src/sync/registry/sync-tables';
import { createTestApp, TestApp } from './test-app';

let installCount = 0;

/** A fresh in-memory WatermelonDB database: one app install. */
export function createInstall(): Database {
  const adapter = new LokiJSAdapter({
    dbName: `install-${++installCount}`,
    schema,
    migrations,
    useWebWorker: false,
    // Node has no IndexedDB, so either value ends on Loki's memory adapter; `false` only adds a
    // deprecation warning to every install.
    useIncrementalIndexedDB: true,
    // In memory only: nothing to persist, and no timers left running after the test.
    extraLokiOptions: { autosave: false },
  });
  return new Database({ adapter, modelClasses });
}

export type ListeningApp = TestApp & { baseUrl: string };

/** The real app listening on an ephemeral port, for clients that speak real HTTP (fetch). */
export async function startListeningApp(): Promise<ListeningApp> {
  const testApp = await createTestApp();
  await testApp.app.listen(0, '127.0.0.1');
  const { port } = testApp.app.getHttpServer().address() as AddressInfo;
  return { ...testApp, baseUrl: `http://127.0.0.1:${port}` };
}

export type DatabaseDump = Record<string, Array<Record<string, unknown>>>;

/**
 * Every live record of every synced table, as plain column values sorted by id; sync bookkeeping
 * (`_status`, `_changed`) is left out, so two converged installs dump equal.
 */
export async function dumpDatabase(database: Database): Promise<DatabaseDump> {
  const dump: DatabaseDump = {};
  for (const table of SYNC_TABLE_NAMES) {
    const collection = database.get(table);
    const columns = ['id', ...Object.keys(collection.schema.columns)];
    const records = await collection.query().fetch();
    dump[table] = records
      .map((record) => {
        const raw = record._raw as unknown as Record<string, unknown>;
        return Object.fromEntries(columns.map((column) => [column, raw[column]]));
      })
      .sort((a, b) => String(a.id).localeCompare(String(b.id)));
  }
  return dump;
}

/** How many local changes (created, updated, deleted records) the next sync would push. */
export async function countUnsyncedChanges(database: Database): Promise<number> {
  return database.read(async () => {
    let count = 0;
    for (const table of SYNC_TABLE_NAMES) {
      const collection = database.get(table);
      count += await collection
        .query(Q.where('_status', Q.oneOf(['created', 'updated'])))
        .fetchCount();
      count += (await database.adapter.getDeletedRecords(table)).length;
    }
    return count;
  });
}

/** WatermelonDB's own answer to "is there anything left to push?". */
export function hasUnsynced(database: Database): Promise<boolean> {
  return hasUnsyncedChanges({ database });
}

export type WatermelonLogWatch = { problems: string[]; restore(): void };

/**
 * WatermelonDB reports the contract violations it recovers from (a `created` record it already
 * has, a `timestamp` going backwards: "most likely server bug") only through its logger. This
 * drops its info chatter from the test output and collects its warnings and errors, so a test
 * can require that there were none.
 */
export function watchWatermelonLogger(): WatermelonLogWatch {
  const problems: string[] = [];
  const collect = (...messages: unknown[]) => {
    problems.push(messages.map((m) => (m instanceof Error ? m.message : String(m))).join(' '));
  };
  const spies = [
    jest.spyOn(logger, 'log').mockImplementation(() => undefined),
    jest.spyOn(logger, 'warn').mockImplementation(collect),
    jest.spyOn(logger, 'error').mockImplementation(collect),
  ];
  return { problems, restore: () => spies.forEach((spy) => spy.mockRestore()) };
}

/** In a describe block: each test fails if WatermelonDB reported a problem while it ran. */
export function failOnWatermelonProblems(): void {
  let watch: WatermelonLogWatch;
  beforeEach(() => (watch = watchWatermelonLogger()));
  afterEach(() => {
    watch.restore();
    // e.g. "[Sync] Server wants client to create record ..., but it already exists locally"
    expect(watch.problems).toEqual([]);
  });
}

export const STARTED_AT = 1764115200000;
export const ENDED_AT = 1764119999000;
export const ROUND_AT = 1764115300000;

export type GameFixture = {
  gameId: string;
  playerIds: string[];
  roundIds: string[];
  scoreIds: string[];
};

/** A game with two players, two rounds and four scores, created through the model API. */
export async function createGame(db: Database, playerNames = ['Ana', 'Ben']): Promise<GameFixture> {
  return db.write(async () => {
    const game = db.get<Game>('games').prepareCreate((g) => {
      g.name = 'Friday night';
      g.targetScore = 500;
      g.status = 'active';
      g.winnerId = null;
      g.startedAt = new Date(STARTED_AT);
      g.endedAt = null;
    });
    const players = playerNames.map((name, i) =>
      db.get<GamePlayer>('game_players').prepareCreate((p) => {
        p.gameId = game.id;
        p.name = name;
        p.position = i + 1;
        p.currentTotal = 0;
      }),
    );
    const rounds = [1, 2].map((n) =>
      db.get<Round>('rounds').prepareCreate((r) => {
        r.gameId = game.id;
        r.roundNumber = n;
        r.callerId = players[0].id;
        r.createdAt = new Date(ROUND_AT + n);
      }),
    );
    const scores = rounds.flatMap((round, r) =>
      players.map((player, p) =>
        db.get<Score>('scores').prepareCreate((s) => {
          s.roundId = round.id;
          s.playerId = player.id;
          s.rawScore = 10 * (r + 1) + p;
          s.bonusApplied = p === 0 ? 5 : 0;
          s.finalScore = s.rawScore + s.bonusApplied;
          s.totalAfter = -s.finalScore; // any int32, negatives included
        }),
      ),
    );
    await db.batch(game, ...players, ...rounds, ...scores);
    const ids = (records: Array<{ id: string }>) => records.map((record) => record.id);
    return {
      gameId: game.id,
      playerIds: ids(players),
      roundIds: ids(rounds),
      scoreIds: ids(scores),
    };
  });
}

/** Updates one record in a writer, like app code does. */
export const update = <T extends Model>(
  db: Database,
  table: string,
  id: string,
  change: (record: T) => void,
) => db.write(async () => (await db.get<T>(table).find(id)).update(change));

/** Marks one record (only that record) as deleted, to be pushed by the next sync. */
export const markDeleted = (db: Database, table: string, id: string) =>
  db.write(async () => (await db.get(table).find(id)).markAsDeleted());

/** A new round with one score in a single batch: what one scoring turn of the app creates. */
export async function addRoundWithScore(
  db: Database,
  {
    gameId,
    playerId,
    roundNumber,
    points,
  }: { gameId: string; playerId: string; roundNumber: number; points: number },
): Promise<{ round: Round; score: Score }> {
  return db.write(async () => {
    const round = db.get<Round>('rounds').prepareCreate((r) => {
      r.gameId = gameId;
      r.roundNumber = roundNumber;
      r.callerId = playerId;
      r.createdAt = new Date(ROUND_AT + points);
    });
    const score = db.get<Score>('scores').prepareCreate((s) => {
      s.roundId = round.id;
      s.playerId = playerId;
      s.rawScore = s.finalScore = s.totalAfter = points;
      s.bonusApplied = 0;
    });
    await db.batch(round, score);
    return { round, score };
  });
}
