import {
  INT32_MAX,
  INT32_MIN,
  MS_MAX,
  MS_MIN,
  SyncColumn,
} from '../../src/sync/registry/sync-column';
import { SYNC_TABLE_NAMES, SYNC_TABLES, SyncTable } from '../../src/sync/registry/sync-tables';
import { ChangesInput, Rec } from './sync-records';

/**
 * What the fuzzed devices hold before the fuzzing starts, so that "nothing changed" means
 * something: four records in every registry table.
 *   0  the upper ends: int32 max, MS_MAX, hostile text filling the length limit
 *   1  the lower ends: int32 min, MS_MIN, null wherever nullable; its id is record 0's in capitals
 *      (ids are case-sensitive)
 *   2  4-byte characters and ZWJ sequences filling the limit, -1, ids that point nowhere
 *   3  the registry's examples; deleted by the second seed push
 * Record n of a child links to its parents' record LINK[n]: a parent with two children, one with
 * one, one with none, and record 3 under record 3, so that deleting the roots' record 3 deletes
 * record 3 of every table by the cascade.
 */
const LINK = [0, 1, 0, 3];
const HOSTILE = 'Ünïcödé 🎲 "quoted" \\ back/slash \u202e שלום ';
const FAMILY = '👨‍👩‍👧‍👦';

/** `unit` repeated to exactly `max` code points. */
const fill = (unit: string, max: number) =>
  [...unit.repeat(Math.ceil(max / [...unit].length))].slice(0, max).join('');

const seedId = (table: string, n: number) =>
  [`seed-${table}-0`, `SEED-${table.toUpperCase()}-0`, `Seed.${table}_-2`, `seed-${table}-3`][n];

function seedValue(table: SyncTable, name: string, column: SyncColumn, n: number): unknown {
  const parent = table.parents[name];
  if (parent) return seedId(parent, LINK[n]);
  if (n === 3) return column.example;
  if (n === 1 && column.nullable) return null;
  switch (column.kind) {
    case 'id':
      return n === 0 ? seedId(table.name, 2) : 'nobody';
    case 'string':
      return fill([HOSTILE, 'x', FAMILY][n], column.maxLength!);
    case 'int':
      return [INT32_MAX, INT32_MIN, -1][n];
    case 'ms':
      return [MS_MAX, MS_MIN, MS_MIN][n];
  }
}

export const SEED_RECORDS: Record<string, Rec[]> = Object.fromEntries(
  SYNC_TABLES.map((table) => [
    table.name,
    LINK.map((_, n) => {
      const record: Rec = { id: seedId(table.name, n) };
      for (const [name, column] of Object.entries(table.columns)) {
        record[name] = seedValue(table, name, column, n);
      }
      return record;
    }),
  ]),
);

const isRoot = (table: SyncTable) => Object.keys(table.parents).length === 0;

/** The first seed push: the tables in turn in `created` and in `updated` (both create). */
export const SEED_PUSH: ChangesInput = Object.fromEntries(
  SYNC_TABLE_NAMES.map((table, i) => [
    table,
    { [i % 2 === 0 ? 'created' : 'updated']: SEED_RECORDS[table] },
  ]),
);

/** The second: record 3 of every root table, which takes record 3 of every other with it. */
export const SEED_DELETIONS: ChangesInput = Object.fromEntries(
  SYNC_TABLES.filter(isRoot).map((table) => [table.name, { deleted: [seedId(table.name, 3)] }]),
);

export const SEED_TOMBSTONES: Record<string, string[]> = Object.fromEntries(
  SYNC_TABLE_NAMES.map((table) => [table, [seedId(table, 3)]]),
);

export const SEED_LIVE: Record<string, Rec[]> = Object.fromEntries(
  SYNC_TABLE_NAMES.map((table) => [
    table,
    SEED_RECORDS[table].filter((record) => !SEED_TOMBSTONES[table].includes(record.id)),
  ]),
);

/** Every seeded id, tombstones included: valid targets of updates, deletions and parent links. */
export const SEED_KNOWN: Record<string, string[]> = Object.fromEntries(
  SYNC_TABLE_NAMES.map((table) => [table, SEED_RECORDS[table].map((record) => record.id)]),
);
