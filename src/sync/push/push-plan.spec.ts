import { SYNC_TABLES, SyncTable, syncTable } from '../registry/sync-tables';
import { PushChanges, TableChanges, WireRecord } from '../validation/validate-push-changes';
import { ExistingRow, ExistingRows, planPush } from './push-plan';

const table = (name: string) => syncTable(name)!;
const games = table('games');
const rounds = table('rounds');
const scores = table('scores');

function push(input: Partial<Record<string, Partial<TableChanges>>>): PushChanges {
  return new Map(
    SYNC_TABLES.map((t) => [t, { created: [], updated: [], deleted: [], ...input[t.name] }]),
  );
}
function server(
  rows: Partial<Record<string, Array<[string, Partial<ExistingRow>]>>>,
): ExistingRows {
  return new Map(
    SYNC_TABLES.map((t: SyncTable) => [
      t,
      new Map(
        (rows[t.name] ?? []).map(([id, row]) => [
          id,
          { stamp: 10, deleted: false, values: { id }, ...row },
        ]),
      ),
    ]),
  );
}
const game = (id: string, status = 'active'): WireRecord => ({
  id,
  name: null,
  target_score: 100,
  status,
  winner_id: null,
  started_at: 1,
  ended_at: null,
});
const round = (id: string, gameId: string): WireRecord => ({
  id,
  game_id: gameId,
  round_number: 1,
  caller_id: null,
  created_at: 1,
});
const score = (id: string, roundId: string, playerId: string): WireRecord => ({
  id,
  round_id: roundId,
  player_id: playerId,
  raw_score: 1,
  bonus_applied: 0,
  final_score: 1,
  total_after: 1,
});

describe('planPush', () => {
  it('reports every record changed after last_pulled_at as a conflict', () => {
    const plan = planPush(
      push({ games: { updated: [game('a')], deleted: ['b'], created: [game('c')] } }),
      server({
        games: [
          ['a', { stamp: 20, values: game('a', 'other') }],
          ['b', { stamp: 20 }],
          ['c', { stamp: 5 }],
        ],
      }),
      10,
    );
    expect(plan).toEqual({
      kind: 'conflict',
      conflicts: [
        { table: 'games', id: 'a' },
        { table: 'games', id: 'b' },
      ],
    });
  });

  it('does not count a replay (same values) or a repeated delete as a conflict', () => {
    const plan = planPush(
      push({ games: { updated: [game('a')], deleted: ['b'] } }),
      server({
        games: [
          ['a', { stamp: 20, values: game('a') }],
          ['b', { stamp: 20, deleted: true }],
        ],
      }),
      10,
    );
    expect(plan.kind).toBe('apply');
  });

  it('stores children of deleted parents deleted, following the chain through the push', () => {
    const plan = planPush(
      push({
        games: { deleted: ['g'] },
        rounds: { created: [round('r', 'g')] },
        scores: { created: [score('s', 'r', 'p')] },
        game_players: {},
      }),
      server({ games: [['g', {}]], game_players: [['p', {}]] }),
      10,
    );
    if (plan.kind !== 'apply') throw new Error(plan.kind);
    expect(plan.tables.get(games)).toEqual({ upserts: [], deletes: ['g'] });
    expect(plan.tables.get(rounds)!.upserts).toEqual([{ record: round('r', 'g'), deleted: true }]);
    expect(plan.tables.get(scores)!.upserts).toEqual([
      { record: score('s', 'r', 'p'), deleted: true },
    ]);
  });

  it('lists a live record that becomes deleted, so its children follow', () => {
    const plan = planPush(
      push({ rounds: { updated: [round('r', 'g')] } }),
      server({ games: [['g', { deleted: true }]], rounds: [['r', {}]] }),
      10,
    );
    if (plan.kind !== 'apply') throw new Error(plan.kind);
    expect(plan.tables.get(rounds)).toEqual({
      upserts: [{ record: round('r', 'g'), deleted: true }],
      deletes: ['r'],
    });
  });

  it('reports children of parents the device never had as orphans', () => {
    const plan = planPush(
      push({ scores: { created: [score('s', 'r', 'p')] } }),
      server({ rounds: [['r', {}]] }),
      10,
    );
    expect(plan).toEqual({
      kind: 'orphans',
      orphans: [{ table: 'scores', id: 's', column: 'player_id', parent_id: 'p' }],
    });
  });

  it('ignores deletes of records the server does not have, and of tombstones', () => {
    const plan = planPush(
      push({ games: { deleted: ['missing', 'dead'] } }),
      server({ games: [['dead', { deleted: true }]] }),
      10,
    );
    if (plan.kind !== 'apply') throw new Error(plan.kind);
    expect(plan.tables.get(games)).toEqual({ upserts: [], deletes: [] });
  });
});
