import { appSchema, tableSchema } from '@nozbe/watermelondb';
import { schemaMigrations } from '@nozbe/watermelondb/Schema/migrations';

/**
 * The app's local WatermelonDB schema. Column names and types mirror the server's table registry
 * (src/sync/registry/sync-tables.ts; a test keeps them equal): ids are strings, dates are numbers
 * of epoch milliseconds.
 */
export const schema = appSchema({
  version: 1,
  tables: [
    tableSchema({
      name: 'games',
      columns: [
        { name: 'name', type: 'string', isOptional: true },
        { name: 'target_score', type: 'number' },
        { name: 'status', type: 'string' },
        { name: 'winner_id', type: 'string', isOptional: true },
        { name: 'started_at', type: 'number' },
        { name: 'ended_at', type: 'number', isOptional: true },
      ],
    }),
    tableSchema({
      name: 'game_players',
      columns: [
        { name: 'game_id', type: 'string', isIndexed: true },
        { name: 'name', type: 'string' },
        { name: 'position', type: 'number' },
        { name: 'current_total', type: 'number' },
      ],
    }),
    tableSchema({
      name: 'rounds',
      columns: [
        { name: 'game_id', type: 'string', isIndexed: true },
        { name: 'round_number', type: 'number' },
        { name: 'caller_id', type: 'string', isOptional: true },
        { name: 'created_at', type: 'number' },
      ],
    }),
    tableSchema({
      name: 'scores',
      columns: [
        { name: 'round_id', type: 'string', isIndexed: true },
        { name: 'player_id', type: 'string', isIndexed: true },
        { name: 'raw_score', type: 'number' },
        { name: 'bonus_applied', type: 'number' },
        { name: 'final_score', type: 'number' },
        { name: 'total_after', type: 'number' },
      ],
    }),
  ],
});

/**
 * No migrations yet. Exported anyway: migration syncs (`migrationsEnabledAtVersion: 1`) need the
 * adapter to know its migrations, and the first schema change only has to add an entry here.
 */
export const migrations = schemaMigrations({ migrations: [] });
