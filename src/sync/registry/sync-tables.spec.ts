import { idColumn, intColumn } from './sync-column';
import { checkSyncTables, SYNC_TABLES, SyncTable } from './sync-tables';

const table = (name: string, parents: Record<string, string> = {}): SyncTable => ({
  name,
  recordName: name,
  exampleId: `${name}-1`,
  entity: class {} as SyncTable['entity'],
  columns: { game_id: idColumn(), count: intColumn() },
  parents,
});

describe('checkSyncTables', () => {
  it('accepts the registry as it is', () => {
    expect(() => checkSyncTables(SYNC_TABLES)).not.toThrow();
  });

  it('refuses a child listed before its parent, naming both', () => {
    expect(() => checkSyncTables([table('players', { game_id: 'games' }), table('games')])).toThrow(
      'players.game_id links games, which must be listed before players',
    );
  });

  it('refuses a link to a table that is not in the registry', () => {
    expect(() => checkSyncTables([table('players', { game_id: 'matches' })])).toThrow(/matches/);
  });

  it('refuses a parent link on a column that is not an id', () => {
    expect(() => checkSyncTables([table('games'), table('players', { count: 'games' })])).toThrow(
      'players.count links a parent but is not an id column',
    );
  });
});
