/** Wire records with every column, for building pushes in tests. */
let counter = 0;
const nextId = (prefix: string) =>
  `${prefix}-${++counter}-${Math.random().toString(36).slice(2, 8)}`;

export type Rec = Record<string, unknown> & { id: string };

export const game = (overrides: Partial<Rec> = {}): Rec => ({
  id: nextId('g'),
  name: 'Friday night',
  target_score: 500,
  status: 'active',
  winner_id: null,
  started_at: 1764115200000,
  ended_at: null,
  ...overrides,
});

export const player = (gameId: string, overrides: Partial<Rec> = {}): Rec => ({
  id: nextId('p'),
  game_id: gameId,
  name: 'Ana',
  position: 1,
  current_total: 0,
  ...overrides,
});

export const round = (gameId: string, overrides: Partial<Rec> = {}): Rec => ({
  id: nextId('r'),
  game_id: gameId,
  round_number: 1,
  caller_id: null,
  created_at: 1764115300000,
  ...overrides,
});

export const score = (roundId: string, playerId: string, overrides: Partial<Rec> = {}): Rec => ({
  id: nextId('s'),
  round_id: roundId,
  player_id: playerId,
  raw_score: 35,
  bonus_applied: 0,
  final_score: 35,
  total_after: 35,
  ...overrides,
});

export type TableChangesInput = { created?: Rec[]; updated?: Rec[]; deleted?: string[] };
export type ChangesInput = Partial<
  Record<'games' | 'game_players' | 'rounds' | 'scores', TableChangesInput>
>;

/** All four tables with all three arrays, as the WatermelonDB client sends them (plus any extra key given). */
export function changes(input: ChangesInput): Record<string, Required<TableChangesInput>> {
  const result = { ...input } as Record<string, Required<TableChangesInput>>;
  for (const table of ['games', 'game_players', 'rounds', 'scores'] as const) {
    result[table] = { created: [], updated: [], deleted: [], ...input[table] };
  }
  return result;
}
