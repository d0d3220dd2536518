/** The wire types of sync columns; each maps to one PostgreSQL type and one validation rule. */
export type SyncColumnKind = 'id' | 'string' | 'int' | 'ms';

export type SyncColumn = {
  kind: SyncColumnKind;
  nullable: boolean;
  /** For `string`: the most characters (code points) allowed. */
  maxLength?: number;
  example: unknown;
  description?: string;
};

/** WatermelonDB ids: the client's own, case-sensitive, never rewritten by the server. */
export const ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
export const ID_MAX_LENGTH = 64;
export const INT32_MIN = -2_147_483_648;
export const INT32_MAX = 2_147_483_647;
/** Epoch milliseconds within JavaScript's Date range (and so within a bigint). */
export const MS_MIN = 0;
export const MS_MAX = 8_640_000_000_000_000;

/** PostgreSQL array types used to pass a column of many records as one parameter. */
export const PG_ARRAY_TYPE: Record<SyncColumnKind, string> = {
  id: 'varchar[]',
  string: 'varchar[]',
  int: 'int4[]',
  ms: 'int8[]',
};

type Options = { nullable?: boolean; example?: unknown; description?: string };

export const idColumn = (options: Options = {}): SyncColumn => ({
  kind: 'id',
  nullable: options.nullable ?? false,
  example: 'example' in options ? options.example : 'kx7hq2mz9w1c3v5b',
  description: options.description,
});

export const stringColumn = (maxLength: number, options: Options = {}): SyncColumn => ({
  kind: 'string',
  maxLength,
  nullable: options.nullable ?? false,
  example: 'example' in options ? options.example : 'text',
  description: options.description,
});

export const intColumn = (options: Options = {}): SyncColumn => ({
  kind: 'int',
  nullable: options.nullable ?? false,
  example: 'example' in options ? options.example : 0,
  description: options.description,
});

export const msColumn = (options: Options = {}): SyncColumn => ({
  kind: 'ms',
  nullable: options.nullable ?? false,
  example: 'example' in options ? options.example : 1764115200000,
  description: options.description ?? 'Epoch milliseconds',
});
