/**
 * The benchmark's records, built from the server's table registry, so that a new synced table
 * is benchmarked without a change here. A "game" is one record of each root table (no parents)
 * and `perGame` records of each child table; child record j links to record j of each parent
 * table (or to the root record), so that every link points inside the same game.
 */
import { randomBytes } from 'node:crypto';
import { SyncColumn } from '../src/sync/registry/sync-column';
import { SYNC_TABLES, SyncTable, wireColumns } from '../src/sync/registry/sync-tables';

export { SYNC_TABLES, wireColumns };
export type { SyncTable };

export type WireRecord = Record<string, string | number | null>;
/** Records by table name. */
export type Records = Record<string, WireRecord[]>;
export type Changes = Record<string, { created: WireRecord[]; updated: WireRecord[]; deleted: [] }>;

const isRoot = (table: SyncTable) => Object.keys(table.parents).length === 0;

/** Unique 16-character ids (a random run tag and a counter), so that every record is new. */
export class IdMaker {
  private readonly tag = randomBytes(3).toString('hex');
  private counter = 0;

  next(): string {
    return `${this.tag}${(this.counter++).toString(36).padStart(10, '0')}`;
  }
}

/** The value of a column of record number `n`: the registry's example, varied a little. */
function value(column: SyncColumn, n: number, otherId: string): string | number {
  const example = column.example;
  switch (column.kind) {
    case 'id': // a link that is not a parent one (winner_id, caller_id) is stored as given
      return otherId;
    case 'string':
      return `${typeof example === 'string' ? example : 'text'} ${n}`.slice(0, column.maxLength);
    case 'int':
      return (typeof example === 'number' ? example : 0) + (n % 50);
    case 'ms':
      return 1_764_115_200_000 + n * 60_000;
  }
}

/** A record of `table`, linked to `links[parent table]`; `otherId` fills other id columns. */
function makeRecord(
  table: SyncTable,
  id: string,
  n: number,
  links: Record<string, string>,
  otherId: string,
): WireRecord {
  const record: WireRecord = { id };
  for (const name in table.columns) {
    const parent = table.parents[name];
    record[name] = parent ? links[parent] : value(table.columns[name], n, otherId);
  }
  return record;
}

export const emptyRecords = (): Records =>
  Object.fromEntries(SYNC_TABLES.map((table) => [table.name, []]));

/** `games` games (of 10 records when `perGame` is 3, with today's four tables). */
export function buildGames(games: number, perGame: number, ids: IdMaker): Records {
  const records = emptyRecords();
  for (let n = 0; n < games; n++) {
    // links[j]: what child record j links to, by parent table: the game's root records and
    // record j of each child table. Parents come before their children in the registry.
    const links = Array.from({ length: perGame }, (): Record<string, string> => ({}));
    let gameId: string | undefined;
    for (const table of SYNC_TABLES) {
      for (let j = 0; j < (isRoot(table) ? 1 : perGame); j++) {
        const id = ids.next();
        gameId ??= id;
        records[table.name].push(makeRecord(table, id, n + j, links[j], gameId));
        for (const k of isRoot(table) ? links.keys() : [j]) links[k][table.name] = id;
      }
    }
  }
  return records;
}

/** `count` new records of the child tables in turn (a player, a round, a score, a player...). */
export function childRecords(count: number, game: Record<string, string>, ids: IdMaker) {
  const children = SYNC_TABLES.filter((table) => !isRoot(table));
  const records = emptyRecords();
  for (let i = 0; i < count; i++) {
    const table = children[i % children.length];
    records[table.name].push(makeRecord(table, ids.next(), i, game, game[SYNC_TABLES[0].name]));
  }
  return records;
}

export const countRecords = (records: Records): number =>
  Object.values(records).reduce((sum, list) => sum + list.length, 0);

/** A push's `changes`: every table with all three arrays. */
export const toChanges = (records: Records, kind: 'created' | 'updated' = 'created'): Changes =>
  Object.fromEntries(
    SYNC_TABLES.map(({ name }) => [
      name,
      { created: [], updated: [], deleted: [], [kind]: records[name] ?? [] },
    ]),
  );
