import { GamePlayerEntity } from '../../games/entities/game-player.entity';
import { GameEntity } from '../../games/entities/game.entity';
import { RoundEntity } from '../../games/entities/round.entity';
import { ScoreEntity } from '../../games/entities/score.entity';
import { SyncRecordEntity } from '../../games/entities/sync-record.entity';
import { idColumn, intColumn, msColumn, stringColumn, SyncColumn } from './sync-column';

export type SyncTable = {
  /** Table name, on the wire and in PostgreSQL. */
  name: string;
  /** One record's name in the OpenAPI schemas (`Game` -> `GameRecord`, `GamesChanges`). */
  recordName: string;
  entity: new () => SyncRecordEntity;
  /** Wire columns besides `id`, in wire order. */
  columns: Record<string, SyncColumn>;
  /**
   * Parent links (column -> parent table). They drive the delete cascade and the 422 rule;
   * other id columns (winner_id, caller_id) are stored as given.
   */
  parents: Record<string, string>;
  /** The id of this table's record in the OpenAPI push example (children link to it). */
  exampleId: string;
};

/**
 * The one description of the synced tables. Pull, push, validation, the delete cascade and the
 * OpenAPI schemas are all derived from it: a new table is an entity, a migration and an entry
 * here. Parents come before their children.
 */
export const SYNC_TABLES: readonly SyncTable[] = [
  {
    name: 'games',
    recordName: 'Game',
    entity: GameEntity,
    columns: {
      name: stringColumn(200, { nullable: true, example: 'Friday night' }),
      target_score: intColumn({ example: 500 }),
      status: stringColumn(32, { example: 'active' }),
      winner_id: idColumn({ nullable: true, example: null, description: 'A game_players id' }),
      started_at: msColumn(),
      ended_at: msColumn({ nullable: true, example: null }),
    },
    parents: {},
    exampleId: 'game-1',
  },
  {
    name: 'game_players',
    recordName: 'GamePlayer',
    entity: GamePlayerEntity,
    columns: {
      game_id: idColumn({ example: 'game-1' }),
      name: stringColumn(100, { example: 'Ana' }),
      position: intColumn({ example: 1 }),
      current_total: intColumn({ example: 120 }),
    },
    parents: { game_id: 'games' },
    exampleId: 'player-1',
  },
  {
    name: 'rounds',
    recordName: 'Round',
    entity: RoundEntity,
    columns: {
      game_id: idColumn({ example: 'game-1' }),
      round_number: intColumn({ example: 1 }),
      caller_id: idColumn({
        nullable: true,
        example: 'player-1',
        description: 'A game_players id',
      }),
      created_at: msColumn(),
    },
    parents: { game_id: 'games' },
    exampleId: 'round-1',
  },
  {
    name: 'scores',
    recordName: 'Score',
    entity: ScoreEntity,
    columns: {
      round_id: idColumn({ example: 'round-1' }),
      player_id: idColumn({ example: 'player-1' }),
      raw_score: intColumn({ example: 35 }),
      bonus_applied: intColumn({ example: 0 }),
      final_score: intColumn({ example: 35 }),
      total_after: intColumn({ example: 155 }),
    },
    parents: { round_id: 'rounds', player_id: 'game_players' },
    exampleId: 'score-1',
  },
];

export const SYNC_TABLE_NAMES = SYNC_TABLES.map((table) => table.name);

export const syncTable = (name: string): SyncTable | undefined =>
  SYNC_TABLES.find((table) => table.name === name);

/** `id` plus the table's columns: what every record carries on the wire. */
export const wireColumns = (table: SyncTable): string[] => ['id', ...Object.keys(table.columns)];

/**
 * Throws unless every parent link is an `id` column of its table pointing at a table listed
 * before it: the push plans and the delete cascade settle a parent before its children.
 * Checked at start-up (SyncModule), so a misordered new entry stops the server with its name.
 */
export function checkSyncTables(tables: readonly SyncTable[]): void {
  const seen = new Set<string>();
  for (const table of tables) {
    for (const [column, parent] of Object.entries(table.parents)) {
      if (table.columns[column]?.kind !== 'id') {
        throw new Error(
          `SYNC_TABLES: ${table.name}.${column} links a parent but is not an id column`,
        );
      }
      if (!seen.has(parent)) {
        throw new Error(
          `SYNC_TABLES: ${table.name}.${column} links ${parent}, which must be listed before ${table.name}`,
        );
      }
    }
    seen.add(table.name);
  }
}
