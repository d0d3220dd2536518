import { schema } from '../../../client/schema';
import { SyncColumnKind } from './sync-column';
import { SYNC_TABLE_NAMES, SYNC_TABLES } from './sync-tables';

/** How WatermelonDB stores each wire kind on the phone. */
const WATERMELON_TYPE: Record<SyncColumnKind, string> = {
  id: 'string',
  string: 'string',
  int: 'number',
  ms: 'number',
};

const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);

/** The app's schema must be the registry's: a table or column on one side only would not sync. */
describe('client/schema.ts matches the sync table registry', () => {
  it('has the same tables, in the same order', () => {
    expect(Object.keys(schema.tables)).toEqual(SYNC_TABLE_NAMES);
  });

  describe.each(SYNC_TABLES.map((table) => [table.name, table] as const))('%s', (name, table) => {
    const columns = schema.tables[name]?.columnArray ?? [];

    it('has the same columns, typed by kind, optional where nullable', () => {
      const client = columns.map((column) => ({
        name: column.name,
        type: column.type,
        isOptional: column.isOptional ?? false,
      }));
      const registry = Object.entries(table.columns).map(([column, { kind, nullable }]) => ({
        name: column,
        type: WATERMELON_TYPE[kind],
        isOptional: nullable,
      }));
      expect(client.sort(byName)).toEqual(registry.sort(byName));
    });

    it('indexes its parent links', () => {
      const indexed = columns.filter((column) => column.isIndexed).map((column) => column.name);
      expect(indexed).toEqual(expect.arrayContaining(Object.keys(table.parents)));
    });
  });
});
