import { SYNC_TABLE_NAMES, SYNC_TABLES, syncTable } from '../../src/sync/registry/sync-tables';

/** Wire records with every column, for building pushes in tests; the registry is the source. */
let counter = 0;
const nextId = (table: string) => `${table}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;

export type Rec = Record<string, unknown> & { id: string };

/** A record of `tableName`: a fresh id, every column at its registry example, then `overrides`. */
export function record(tableName: string, overrides: Partial<Rec> = {}): Rec {
  const table = syncTable(tableName);
  if (!table) throw new Error(`${tableName} is not in SYNC_TABLES`);
  const examples = Object.entries(table.columns).map(([name, column]) => [name, column.example]);
  return { id: nextId(tableName), ...Object.fromEntries(examples), ...overrides };
}

/** One record of every registry table, each parent link at this family's record of the parent. */
export function family(): Record<string, Rec> {
  const records: Record<string, Rec> = {};
  for (const table of SYNC_TABLES) {
    const links = Object.entries(table.parents).map(([column, parent]) => [
      column,
      records[parent].id,
    ]);
    records[table.name] = record(table.name, Object.fromEntries(links));
  }
  return records;
}

// Named builders for the tests of game, player, round and score rules.
export const game = (overrides: Partial<Rec> = {}): Rec => record('games', overrides);

export const player = (gameId: string, overrides: Partial<Rec> = {}): Rec =>
  record('game_players', { game_id: gameId, ...overrides });

export const round = (gameId: string, overrides: Partial<Rec> = {}): Rec =>
  record('rounds', { game_id: gameId, ...overrides });

export const score = (roundId: string, playerId: string, overrides: Partial<Rec> = {}): Rec =>
  record('scores', { round_id: roundId, player_id: playerId, ...overrides });

export type TableChangesInput = { created?: Rec[]; updated?: Rec[]; deleted?: string[] };
export type ChangesInput = Partial<Record<string, TableChangesInput>>;

/** Every registry table with all three arrays, as the WatermelonDB client sends them (plus any extra key given). */
export function changes(input: ChangesInput): Record<string, Required<TableChangesInput>> {
  const result = { ...input } as Record<string, Required<TableChangesInput>>;
  for (const table of SYNC_TABLE_NAMES) {
    result[table] = { created: [], updated: [], deleted: [], ...input[table] };
  }
  return result;
}
