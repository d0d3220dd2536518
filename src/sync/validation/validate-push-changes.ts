import {
  ID_PATTERN,
  INT32_MAX,
  INT32_MIN,
  MS_MAX,
  MS_MIN,
  SyncColumn,
} from '../registry/sync-column';
import { SYNC_TABLES, syncTable, SyncTable } from '../registry/sync-tables';
import { isObject } from './is-object';

export type WireRecord = Record<string, string | number | null>;
export type TableChanges = { created: WireRecord[]; updated: WireRecord[]; deleted: string[] };
/** A validated push: every known table present, each with its three arrays. */
export type PushChanges = Map<SyncTable, TableChanges>;

export type ValidationResult = { changes: PushChanges; records: number } | { errors: string[] };

/** More than this many messages only add bulk; the count of the rest is reported instead. */
const MAX_MESSAGES = 100;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function checkValue(column: SyncColumn, value: unknown): string | undefined {
  if (value === undefined) return 'is required';
  if (value === null) return column.nullable ? undefined : 'must not be null';
  switch (column.kind) {
    case 'id':
      return typeof value === 'string' && ID_PATTERN.test(value)
        ? undefined
        : `must be an id matching ${ID_PATTERN.source}`;
    case 'string':
      if (typeof value !== 'string') return 'must be a string';
      if (value.includes('\u0000')) return 'must not contain NUL characters';
      // A lone surrogate has no UTF-8 form: PostgreSQL would store U+FFFD, not what was sent.
      if (LONE_SURROGATE.test(value)) return 'must be valid Unicode (no lone surrogates)';
      return [...value].length <= column.maxLength!
        ? undefined
        : `must be at most ${column.maxLength} characters`;
    case 'int':
      return Number.isInteger(value) &&
        (value as number) >= INT32_MIN &&
        (value as number) <= INT32_MAX
        ? undefined
        : 'must be a 32-bit integer';
    case 'ms':
      return Number.isInteger(value) && (value as number) >= MS_MIN && (value as number) <= MS_MAX
        ? undefined
        : 'must be an integer of epoch milliseconds';
  }
}

const ID_COLUMN: SyncColumn = { kind: 'id', nullable: false, example: null };

/** Keeps the wire columns only: `_status`, `_changed` and unknown keys are dropped here. */
function checkRecord(
  table: SyncTable,
  value: unknown,
  path: string,
  errors: string[],
): WireRecord | undefined {
  if (!isObject(value)) {
    errors.push(`${path} must be an object`);
    return undefined;
  }
  const record: WireRecord = {};
  for (const [name, column] of [['id', ID_COLUMN] as const, ...Object.entries(table.columns)]) {
    const problem = checkValue(column, value[name]);
    if (problem) errors.push(`${path}.${name} ${problem}`);
    else record[name] = value[name] as string | number | null;
  }
  return record;
}

function checkArray(value: unknown, path: string, errors: string[]): unknown[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return value;
  errors.push(`${path} must be an array`);
  return [];
}

/**
 * Checks the shape of a push's `changes` against the table registry and returns it normalised.
 * Shape only: conflicts, parents and ownership are the service's business. A table or array
 * that is left out counts as empty; an unknown table is an error, as is an id listed twice.
 */
export function validatePushChanges(input: unknown): ValidationResult {
  const errors: string[] = [];
  const changes: PushChanges = new Map();
  let records = 0;
  if (!isObject(input)) return { errors: ['changes must be an object'] };

  for (const name of Object.keys(input)) {
    if (!syncTable(name)) errors.push(`changes.${name} is not a known table`);
  }
  for (const table of SYNC_TABLES) {
    const path = `changes.${table.name}`;
    const raw = input[table.name] ?? {};
    if (!isObject(raw)) {
      errors.push(`${path} must be an object with created, updated and deleted arrays`);
      continue;
    }
    const upserts = (key: 'created' | 'updated') =>
      checkArray(raw[key], `${path}.${key}`, errors)
        .map((record, i) => checkRecord(table, record, `${path}.${key}[${i}]`, errors))
        .filter((record): record is WireRecord => record !== undefined);
    const created = upserts('created');
    const updated = upserts('updated');
    const deleted = checkArray(raw.deleted, `${path}.deleted`, errors).filter((id, i) => {
      const ok = typeof id === 'string' && ID_PATTERN.test(id);
      if (!ok) errors.push(`${path}.deleted[${i}] must be an id matching ${ID_PATTERN.source}`);
      return ok;
    }) as string[];

    const seen = new Set<string>();
    for (const id of [
      ...created.map((r) => r.id as string),
      ...updated.map((r) => r.id as string),
      ...deleted,
    ]) {
      if (seen.has(id)) errors.push(`${path}: id ${JSON.stringify(id)} appears more than once`);
      seen.add(id);
    }
    records += seen.size;
    changes.set(table, { created, updated, deleted });
  }

  if (errors.length > MAX_MESSAGES) {
    const rest = errors.length - MAX_MESSAGES;
    return { errors: [...errors.slice(0, MAX_MESSAGES), `... and ${rest} more`] };
  }
  return errors.length ? { errors } : { changes, records };
}
