import { Injectable, PipeTransform } from '@nestjs/common';
import { validationFailed } from '../../utils/validation-options';
import { isObject } from './is-object';

/** WatermelonDB's migration sync info: the tables and columns a client migration added. */
export type PullMigration = {
  from: number;
  tables: string[];
  columns: { table: string; columns: string[] }[];
};

export type PullRequest = {
  /** 0 for a first sync. */
  lastPulledAt: number;
  schemaVersion?: number;
  migration?: PullMigration;
};

/** Bounds of the migration info: names as long as PostgreSQL's, lists far beyond any schema. */
const MAX_NAME = 64;
const MAX_ITEMS = 1000;

/** Absent, '' and 'null' all mean "not given". */
const isAbsent = (value: unknown) => value === undefined || value === '' || value === 'null';

/**
 * Up to 16 digits: no sign, fraction, exponent or spaces. Any such value is an integer to the
 * contract; one above 2^53 is rounded, which as a last_pulled_at is far above any device clock
 * (refused as never issued) and as a schema_version changes nothing.
 */
function parseCount(value: unknown, min: number): number | undefined {
  if (typeof value !== 'string' || !/^\d{1,16}$/.test(value)) return undefined;
  const n = Number(value);
  return n >= min ? n : undefined;
}

function checkNames(value: unknown, path: string, errors: string[]): string[] {
  if (!Array.isArray(value) || value.length > MAX_ITEMS) {
    errors.push(`${path} must be an array of at most ${MAX_ITEMS} names`);
    return [];
  }
  value.forEach((name, i) => {
    if (typeof name !== 'string' || name.length > MAX_NAME) {
      errors.push(`${path}[${i}] must be a string of at most ${MAX_NAME} characters`);
    }
  });
  return value as string[];
}

function parseMigration(text: unknown, errors: string[]): PullMigration | undefined {
  let value: unknown;
  try {
    value = typeof text === 'string' ? JSON.parse(text) : text;
  } catch {
    value = text;
  }
  if (value === null) return undefined;
  if (!isObject(value)) {
    errors.push('migration must be null or a JSON object {"from", "tables", "columns"}');
    return undefined;
  }
  const before = errors.length;
  const from = value.from;
  if (!Number.isSafeInteger(from) || (from as number) < 1) {
    errors.push('migration.from must be an integer of at least 1 (a schema version)');
  }
  const tables = checkNames(value.tables, 'migration.tables', errors);
  const columns: PullMigration['columns'] = [];
  if (!Array.isArray(value.columns) || value.columns.length > MAX_ITEMS) {
    errors.push(`migration.columns must be an array of at most ${MAX_ITEMS} objects`);
  } else {
    value.columns.forEach((entry: unknown, i) => {
      const path = `migration.columns[${i}]`;
      if (!isObject(entry)) {
        errors.push(`${path} must be an object {"table", "columns"}`);
        return;
      }
      if (typeof entry.table !== 'string' || entry.table.length > MAX_NAME) {
        errors.push(`${path}.table must be a string of at most ${MAX_NAME} characters`);
      }
      const names = checkNames(entry.columns, `${path}.columns`, errors);
      columns.push({ table: entry.table as string, columns: names });
    });
  }
  return errors.length > before ? undefined : { from: from as number, tables, columns };
}

/**
 * Validates the pull's query string by hand: it comes with every pull, and the global
 * ValidationPipe (class-transformer, then class-validator) cost ~4% of the server's CPU per sync
 * cycle for three fields. Unknown parameters are ignored; a parameter given twice is refused.
 * PullQueryDto documents the same parameters.
 */
@Injectable()
export class PullQueryPipe implements PipeTransform<unknown, PullRequest> {
  transform(query: unknown): PullRequest {
    const input = isObject(query) ? query : {};
    const errors: string[] = [];
    const request: PullRequest = { lastPulledAt: 0 };

    if (!isAbsent(input.last_pulled_at)) {
      const value = parseCount(input.last_pulled_at, 0);
      if (value === undefined) {
        errors.push(
          'last_pulled_at must be an integer of at least 0 (the timestamp of the last pull), or absent',
        );
      } else request.lastPulledAt = value;
    }
    if (!isAbsent(input.schema_version)) {
      const value = parseCount(input.schema_version, 1);
      if (value === undefined) errors.push('schema_version must be an integer of at least 1');
      else request.schemaVersion = value;
    }
    if (!isAbsent(input.migration)) request.migration = parseMigration(input.migration, errors);

    if (errors.length) throw validationFailed(errors);
    return request;
  }
}
