import { randomBytes } from 'node:crypto';

/**
 * The synced tables as CONTRACT.md defines them on the wire, with the PostgreSQL array type of
 * each column (for unnest). Kept here rather than imported from src/ on purpose: the benchmark
 * is a fixed workload held against the contract, whatever the server's internals become.
 */
export const TABLES = ['games', 'game_players', 'rounds', 'scores'] as const;
export type TableName = (typeof TABLES)[number];

type PgArrayType = 'varchar[]' | 'int4[]' | 'int8[]';

export const COLUMNS: Record<TableName, ReadonlyArray<readonly [string, PgArrayType]>> = {
  games: [
    ['id', 'varchar[]'],
    ['name', 'varchar[]'],
    ['target_score', 'int4[]'],
    ['status', 'varchar[]'],
    ['winner_id', 'varchar[]'],
    ['started_at', 'int8[]'],
    ['ended_at', 'int8[]'],
  ],
  game_players: [
    ['id', 'varchar[]'],
    ['game_id', 'varchar[]'],
    ['name', 'varchar[]'],
    ['position', 'int4[]'],
    ['current_total', 'int4[]'],
  ],
  rounds: [
    ['id', 'varchar[]'],
    ['game_id', 'varchar[]'],
    ['round_number', 'int4[]'],
    ['caller_id', 'varchar[]'],
    ['created_at', 'int8[]'],
  ],
  scores: [
    ['id', 'varchar[]'],
    ['round_id', 'varchar[]'],
    ['player_id', 'varchar[]'],
    ['raw_score', 'int4[]'],
    ['bonus_applied', 'int4[]'],
    ['final_score', 'int4[]'],
    ['total_after', 'int4[]'],
  ],
};

export type WireRecord = { id: string } & Record<string, string | number | null>;
export type TableRecords = Record<TableName, WireRecord[]>;
export type TableChanges = { created: WireRecord[]; updated: WireRecord[]; deleted: string[] };
export type Changes = Record<TableName, TableChanges>;

export const countRecords = (records: TableRecords): number =>
  TABLES.reduce((sum, table) => sum + records[table].length, 0);

/** A push body's `changes`: new records in `created`, every table and array present. */
export function changesOf(
  records: Partial<TableRecords>,
  kind: 'created' | 'updated' = 'created',
): Changes {
  const empty = (): TableChanges => ({ created: [], updated: [], deleted: [] });
  const changes = { games: empty(), game_players: empty(), rounds: empty(), scores: empty() };
  for (const table of TABLES) changes[table][kind] = records[table] ?? [];
  return changes;
}

/**
 * WatermelonDB-sized ids (16 characters): a table letter, a tag unique to this benchmark run and
 * a counter, so every generated record is new.
 */
export class IdMaker {
  private readonly tag = randomBytes(3).toString('hex').slice(0, 4);
  private counter = 0;

  next(letter: string): string {
    return `${letter}${this.tag}${(this.counter++).toString(36).padStart(11, '0')}`;
  }
}

/** A start date a few weeks back, so dates look like real ones (and need a bigint). */
const BASE_MS = Date.UTC(2025, 10, 1);

/**
 * `games` games, each with `perGame` players, rounds and scores (score j is player j's in round
 * j): 1 + 3 * perGame records per game. The SQL seed in seed.ts builds the same shapes.
 */
export function buildGames(games: number, perGame: number, ids: IdMaker): TableRecords {
  const records: TableRecords = { games: [], game_players: [], rounds: [], scores: [] };
  for (let n = 0; n < games; n++) {
    const gameId = ids.next('g');
    const startedAt = BASE_MS + n * 60_000;
    const finished = n % 3 === 0;
    const players = Array.from({ length: perGame }, () => ids.next('p'));
    records.games.push({
      id: gameId,
      name: `Game night ${n}`,
      target_score: 500,
      status: finished ? 'finished' : 'active',
      winner_id: finished ? players[0] : null,
      started_at: startedAt,
      ended_at: finished ? startedAt + 3_600_000 : null,
    });
    for (let j = 0; j < perGame; j++) {
      const roundId = ids.next('r');
      const raw = (n + j * 7) % 50;
      records.game_players.push({
        id: players[j],
        game_id: gameId,
        name: `Player ${j + 1}`,
        position: j + 1,
        current_total: raw,
      });
      records.rounds.push({
        id: roundId,
        game_id: gameId,
        round_number: j + 1,
        caller_id: players[j],
        created_at: startedAt + (j + 1) * 60_000,
      });
      records.scores.push({
        id: ids.next('s'),
        round_id: roundId,
        player_id: players[j],
        raw_score: raw,
        bonus_applied: j === 0 ? 10 : 0,
        final_score: raw + (j === 0 ? 10 : 0),
        total_after: raw,
      });
    }
  }
  return records;
}
