/**
 * fast-check generators for fuzzing the sync endpoints (test/fuzz.e2e-spec.ts).
 *
 * - Valid pushes (pushSpecArb + buildPush), every column of every table: hostile but valid
 *   ids, strings (quotes, backslashes, RTL, emoji, combining marks, at their limits), ints at
 *   int32's ends, dates at both ends, numbers spelt `-0`, `1.0`, `1e3`, `null` where nullable,
 *   ignored keys (`_status`, `__proto__`, 1000-deep JSON, `1e400`), long `deleted` arrays.
 * - Defects that spoil one (DefectPlan, applied by `spoil`): in the JSON tree (wrong types,
 *   missing keys, NUL, lone surrogates, over-long or 1 MB strings, ids with quotes and slashes,
 *   ints past 32 bits, 1e400, duplicated ids, unknown tables, orphans, too many records, a
 *   `last_pulled_at` never issued), in the JSON text (not an object, invalid JSON, stray bytes),
 *   and in transport (Content-Type, charset, Content-Encoding, over the size limit, gzip bombs).
 * - Pull query strings (pullQueryArb), and the answers the contract leaves no choice about.
 *
 * Tables, columns, kinds, nullability, limits and parent links all come from the server's table
 * registry (SYNC_TABLES, sync-column.ts), so a new table is fuzzed as soon as it is registered;
 * the contract's own limits are pinned by the e2e tests that name them. Generators produce small
 * descriptions; bodies are built from them when a run executes, so a failing counterexample
 * prints in a few lines even when the body it stands for is 10 MB.
 */
import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import {
  ID_MAX_LENGTH,
  ID_PATTERN,
  idColumn,
  INT32_MAX,
  INT32_MIN,
  MS_MAX,
  MS_MIN,
  SyncColumn,
} from '../../src/sync/registry/sync-column';
import { SYNC_TABLE_NAMES, SYNC_TABLES } from '../../src/sync/registry/sync-tables';

// ---------------------------------------------------------------------------------------------
// JSON text that JSON.stringify cannot write
// ---------------------------------------------------------------------------------------------

/** Spliced into the body verbatim: `1e400`, `-0`, deep nesting, invalid tokens. */
export class RawJson {
  constructor(readonly text: string) {}
}

/** An object written with its entries in order, duplicates included (JSON.parse keeps the last). */
export class DupKeys {
  constructor(readonly entries: ReadonlyArray<readonly [string, Json]>) {}
}

export type Json =
  null | boolean | number | string | RawJson | DupKeys | Json[] | { [key: string]: Json };

export type JsonObject = { [key: string]: Json };

export function toJsonText(value: Json): string {
  if (value instanceof RawJson) return value.text;
  if (value instanceof DupKeys) {
    return `{${value.entries.map(([k, v]) => `${JSON.stringify(k)}:${toJsonText(v)}`).join(',')}}`;
  }
  if (Array.isArray(value)) return `[${value.map(toJsonText).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}:${toJsonText(v)}`)
      .join(',')}}`;
  }
  // JSON.stringify escapes lone surrogates (\udXXX) and control characters.
  return JSON.stringify(value);
}

export const isJsonObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  !(value instanceof RawJson) &&
  !(value instanceof DupKeys);

/** Sets an own enumerable key, `__proto__` included (plain assignment would set the prototype). */
export function setKey(target: JsonObject, key: string, value: Json): void {
  Object.defineProperty(target, key, {
    value,
    enumerable: true,
    writable: true,
    configurable: true,
  });
}

/** A deep copy that keeps RawJson / DupKeys (immutable) and own `__proto__` keys. */
export function cloneJson<T extends Json>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => cloneJson(v)) as T;
  if (isJsonObject(value)) {
    const copy: JsonObject = {};
    for (const [k, v] of Object.entries(value)) setKey(copy, k, cloneJson(v));
    return copy as T;
  }
  return value;
}

export type DeepShape = { depth: number; kind: 'array' | 'object' | 'mixed' };

/** `[[[...]]]`, `{"a":{"a":...}}` or both interleaved, `depth` levels. */
export function deepJson({ depth, kind }: DeepShape): RawJson {
  if (kind === 'array') return new RawJson('['.repeat(depth) + ']'.repeat(depth));
  if (kind === 'object') return new RawJson('{"a":'.repeat(depth) + '1' + '}'.repeat(depth));
  const half = Math.ceil(depth / 2);
  return new RawJson('[{"a":'.repeat(half) + 'null' + '}]'.repeat(half));
}

export const deepShapeArb: fc.Arbitrary<DeepShape> = fc.record({
  depth: fc.oneof(fc.integer({ min: 1, max: 50 }), fc.constantFrom(999, 1000, 1001)),
  kind: fc.constantFrom('array' as const, 'object' as const, 'mixed' as const),
});

const deepArb: fc.Arbitrary<RawJson> = deepShapeArb.map(deepJson);

/** `arb` about once in `oneIn` runs, `null` otherwise (and when shrinking). */
export const sometimes = <T>(arb: fc.Arbitrary<T>, oneIn: number): fc.Arbitrary<T | null> =>
  fc.oneof({ weight: oneIn - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: arb });

// ---------------------------------------------------------------------------------------------
// The registry: tables, columns, limits
// ---------------------------------------------------------------------------------------------

export const ARRAYS = ['created', 'updated', 'deleted'] as const;
export type ArrayName = (typeof ARRAYS)[number];

/** A registry column with its name and, for a parent link, the parent table. */
export type Column = SyncColumn & { name: string; parent?: string };

/** Every wire column besides `id`, per table. */
export const COLUMNS: Record<string, Column[]> = Object.fromEntries(
  SYNC_TABLES.map((table) => [
    table.name,
    Object.entries(table.columns).map(([name, column]): Column => ({
      ...column,
      name,
      parent: table.parents[name],
    })),
  ]),
);

const ID_COLUMN: Column = { ...idColumn(), name: 'id' };
/** `id` first, then the table's columns: what every record carries on the wire. */
export const recordColumns = (table: string): Column[] => [ID_COLUMN, ...COLUMNS[table]];

/** A table without parent links: a push needs one of its records before any child. */
const isRoot = (table: string) => COLUMNS[table].every((column) => !column.parent);

/** Named where a generator needs some real table or column (SQL, migrations, lookalikes). */
const [FIRST_TABLE] = SYNC_TABLE_NAMES;
const FIRST_COLUMN = COLUMNS[FIRST_TABLE][0].name;

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** Valid ids that validIdArb never produces: padding and orphan links, which must not collide. */
const RESERVED = 'zz.fuzz.';
export const reservedId = (n: number | string) => `${RESERVED}${n}`;
const isReserved = (id: string) => id.startsWith(RESERVED);

const codePoints = (s: string) => [...s].length;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const isWellFormed = (s: string) => !LONE_SURROGATE.test(s);

// ---------------------------------------------------------------------------------------------
// Valid values, hostile ones included
// ---------------------------------------------------------------------------------------------

/** The ASCII characters that ID_PATTERN allows. */
const ID_CHARS = Array.from({ length: 128 }, (_, code) => String.fromCharCode(code)).filter((ch) =>
  ID_PATTERN.test(ch),
);

/** Every id matching the registry's pattern, biased to the odd ones. */
export const validIdArb: fc.Arbitrary<string> = fc
  .oneof(
    {
      weight: 6,
      arbitrary: fc.string({
        unit: fc.constantFrom(...ID_CHARS),
        minLength: 1,
        maxLength: ID_MAX_LENGTH,
      }),
    },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        '.',
        '..',
        '...',
        '-',
        '--',
        '_',
        '0',
        '00',
        '-1',
        '1e3',
        'a',
        'A',
        'aA',
        'Aa',
        'id',
        'ID',
        'null',
        'NULL',
        'undefined',
        'true',
        'NaN',
        'Infinity',
        '__proto__',
        'constructor',
        'prototype',
        'toString',
        'hasOwnProperty',
        'valueOf',
      ),
    },
    {
      weight: 1,
      arbitrary: fc.string({
        unit: fc.constantFrom(...ID_CHARS),
        minLength: ID_MAX_LENGTH,
        maxLength: ID_MAX_LENGTH,
      }),
    },
  )
  .filter((id) => !isReserved(id));

/** A valid value as sent (possibly as raw JSON text) and as a pull must return it. */
export type Valid = { wire: Json; expected: string | number | null };

const plain = (value: string | number | null): Valid => ({ wire: value, expected: value });
/** A number spelt unusually (`-0`, `1.0`, `1e3`): the server sees the number it stands for. */
const spelt = (text: string): Valid => {
  const n = JSON.parse(text) as number;
  return { wire: new RawJson(text), expected: n === 0 ? 0 : n };
};

/** Hand-picked strings that break naive escaping, quoting, parsing or length counting. */
export const HOSTILE_STRINGS: readonly string[] = [
  '',
  ' ',
  '  leading and trailing  ',
  '"',
  "'",
  '\\',
  '/',
  '\\"',
  '"\\',
  '\\u0000',
  '\\n',
  '{',
  '}',
  '{}',
  '[]',
  ',',
  '{"a":1}',
  'NULL',
  'null',
  'undefined',
  '\t\r\n',
  '\u0001\u001f\u007f',
  '\u0085\u00a0',
  '\u2028\u2029',
  '\ufeff',
  '\u200b\u200c\u200d',
  '\u202e\u202d\u2066',
  'مرحبا بالعالم',
  'שלום עולם',
  'abc \u202e fed',
  'Ünïcödé',
  'e\u0301\u0301\u0301',
  '👨‍👩‍👧‍👦',
  '🎲🃏🀄',
  '🏳️‍🌈',
  '\ud83d\ude00',
  '\ufffd',
  '\ufffe\uffff',
  '𝕏𝔂𝖟',
  '\u{10ffff}',
  '<script>alert(1)</script>',
  `'; DROP TABLE ${FIRST_TABLE}; --`,
  '%s%n%x',
  '${x}{{x}}',
  '../../etc/passwd',
  'C:\\Windows\\System32',
  '\\\\server\\share',
  `a"b'c\\d/e`,
];

/** Units that make long strings heavy in bytes, escapes or UTF-16 code units. */
const HEAVY_UNITS = ['x', 'é', '€', '🎲', '"', '\\', '/', 'ש', '\u0301', '\n', '\u0001'];

/** Strings of at most `max` code points, no NUL, no lone surrogate. */
export function validStringArb(max: number): fc.Arbitrary<string> {
  return fc
    .oneof(
      { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
      { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: max }) },
      { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: max }) },
      {
        weight: 2,
        arbitrary: fc.string({
          unit: fc.constantFrom(...HEAVY_UNITS, ...HOSTILE_STRINGS.slice(1, 20)),
          maxLength: max,
        }),
      },
      // Exactly at the limit, in 1-, 2-, 3- and 4-byte characters.
      { weight: 2, arbitrary: fc.constantFrom(...HEAVY_UNITS).map((u) => u.repeat(max)) },
    )
    .map((s) => s.replaceAll('\u0000', '0'))
    .filter((s) => codePoints(s) <= max && isWellFormed(s));
}

export const validIntArb: fc.Arbitrary<Valid> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: INT32_MIN, max: INT32_MAX }).map(plain) },
  { weight: 2, arbitrary: fc.constantFrom(INT32_MIN, INT32_MAX, 0, 1, -1).map(plain) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(
        '-0',
        '0.0',
        '-0.0',
        '1.0',
        '1e3',
        '1E3',
        '1e+3',
        '0e0',
        '100e-2',
        `${INT32_MAX}.0`,
        `${INT32_MIN}.0`,
        INT32_MIN.toExponential(),
        INT32_MAX.toExponential().toUpperCase(),
      )
      .map(spelt),
  },
);

export const validMsArb: fc.Arbitrary<Valid> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.bigInt({ min: BigInt(MS_MIN), max: BigInt(MS_MAX) }).map((n) => plain(Number(n))),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(MS_MIN, MS_MIN + 1, MS_MAX, MS_MAX - 1, 1764115200000).map(plain),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(
        `${MS_MIN}.0`,
        MS_MAX.toExponential(),
        `${MS_MAX}.0`,
        '-0',
        '0.0',
        '1.7641152e12',
        '1e0',
      )
      .map(spelt),
  },
);

export function validValueArb(column: Column): fc.Arbitrary<Valid> {
  const base: fc.Arbitrary<Valid> =
    column.kind === 'id'
      ? validIdArb.map(plain)
      : column.kind === 'string'
        ? validStringArb(column.maxLength!).map(plain)
        : column.kind === 'int'
          ? validIntArb
          : validMsArb;
  return column.nullable
    ? fc.oneof({ weight: 3, arbitrary: base }, { weight: 1, arbitrary: fc.constant(plain(null)) })
    : base;
}

/** Keys that are no column: WatermelonDB's own, lookalikes, prototype names, unicode. */
const extraKeyArb = (table: string): fc.Arbitrary<string> => {
  const names = recordColumns(table).map((column) => column.name);
  const lookalikes = names.flatMap((name) => [name.toUpperCase(), capitalize(name), `${name} `]);
  return fc
    .oneof(
      fc.constantFrom(
        '_status',
        '_changed',
        ...lookalikes,
        '__proto__',
        'constructor',
        'toString',
        'device_id',
        'stamp',
        'deleted_at',
        '',
        '🎲',
        'اسم',
        '\ud800',
      ),
      fc.string({ unit: 'binary', maxLength: 12 }),
    )
    .filter((key) => !names.includes(key));
};

/** The key a prototype-pollution attempt sets; the tests check that `{}` never has it. */
export const POLLUTION_KEY = 'fuzzPolluted';

/** Values for ignored keys: anything at all, deep and huge included. */
const extraValueArb: fc.Arbitrary<Json> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json> },
  {
    weight: 2,
    arbitrary: fc.constantFrom<Json>(
      'created',
      'updated',
      'deleted',
      '',
      COLUMNS[FIRST_TABLE].map((column) => column.name).join(','),
    ),
  },
  { weight: 1, arbitrary: deepArb },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      new RawJson('1e400'),
      new RawJson('-1e400'),
      new RawJson('-0'),
      new RawJson('"\\ud800"'),
      new RawJson('"a\\u0000b"'),
    ),
  },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 20_000 }).map((n) => 'x'.repeat(n)) },
  // Prototype pollution, should anything merge a body into an object.
  {
    weight: 1,
    arbitrary: fc.constantFrom<Json>(
      { [POLLUTION_KEY]: 'fuzz' },
      { prototype: { [POLLUTION_KEY]: 'fuzz' } },
      // An own `__proto__` key, as JSON.parse makes it (a literal would set the prototype).
      JSON.parse(`{"__proto__":{"${POLLUTION_KEY}":"fuzz"}}`) as Json,
    ),
  },
);

const extrasArb = (table: string) =>
  fc.array(fc.tuple(extraKeyArb(table), extraValueArb), { maxLength: 3 });

type Values = Record<string, Valid>;

/** Valid values for a table's non-parent columns. */
function valuesArb(table: string): fc.Arbitrary<Values> {
  const shape: Record<string, fc.Arbitrary<Valid>> = {};
  for (const column of COLUMNS[table]) {
    if (!column.parent) shape[column.name] = validValueArb(column);
  }
  return fc.record(shape);
}

// ---------------------------------------------------------------------------------------------
// Valid pushes
// ---------------------------------------------------------------------------------------------

/** Ids a device already has (seeded), per table: any of them is a valid parent. */
export type Known = Record<string, string[]>;
export const NO_KNOWN: Known = Object.fromEntries(SYNC_TABLE_NAMES.map((table) => [table, []]));

type RecordSpec = {
  values: Values;
  parents: number[];
  inCreated: boolean;
  extras: Array<[string, Json]>;
};

const parentCount = (table: string) => COLUMNS[table].filter((column) => column.parent).length;

const recordSpecArb = (table: string): fc.Arbitrary<RecordSpec> =>
  fc.record({
    values: valuesArb(table),
    // One pick per parent link.
    parents: fc.array(fc.nat(), { minLength: parentCount(table), maxLength: parentCount(table) }),
    inCreated: fc.boolean(),
    extras: extrasArb(table),
  });

export type PushSpec = {
  ids: string[];
  records: Record<string, RecordSpec[]>;
  /** Updates of records the device has: `pick` chooses which. */
  updates: Array<{ table: string; pick: number; spec: RecordSpec }>;
  /** Deletions of records the device has (`known`) or never had (`fresh`). */
  deletes: Array<{ table: string; pick: number; known: boolean }>;
  /** Valid ids the device never had, appended to `deleted` (long arrays). */
  padding: { table: string; count: number } | null;
  /** Extra top-level keys (the server ignores them). */
  topExtras: Array<[string, Json]>;
};

export type Location = { table: string; array: 'created' | 'updated'; index: number };

export type BuiltPush = {
  changes: Record<string, { created: JsonObject[]; updated: JsonObject[]; deleted: Json[] }>;
  topExtras: Array<[string, Json]>;
  /** What a first-sync pull of a device that had nothing must return (new records only). */
  expected: Record<string, Array<Record<string, unknown>>>;
  /** Records created by this push that have parent links, for the orphan mutation. */
  newChildren: Location[];
};

export function pushSpecArb(known: Known = NO_KNOWN): fc.Arbitrary<PushSpec> {
  const knownIds = new Set(Object.values(known).flat());
  const hasKnown = knownIds.size > 0;
  const tableArb = fc.constantFrom(...SYNC_TABLE_NAMES);
  const records: Record<string, fc.Arbitrary<RecordSpec[]>> = {};
  for (const table of SYNC_TABLE_NAMES) {
    // At least one root record, so that children have a parent in the push.
    records[table] = fc.array(recordSpecArb(table), {
      minLength: isRoot(table) ? 1 : 0,
      maxLength: isRoot(table) ? 3 : 4,
    });
  }
  return fc.record({
    ids: fc.uniqueArray(
      validIdArb.filter((id) => !knownIds.has(id)),
      { minLength: 1, maxLength: 20 },
    ),
    records: fc.record(records),
    updates: hasKnown
      ? fc.array(
          tableArb.chain((table) =>
            fc.record({ table: fc.constant(table), pick: fc.nat(), spec: recordSpecArb(table) }),
          ),
          { maxLength: 3 },
        )
      : fc.constant([]),
    deletes: fc.array(
      fc.record({
        table: tableArb,
        pick: fc.nat(),
        known: hasKnown ? fc.boolean() : fc.constant(false),
      }),
      { maxLength: 3 },
    ),
    padding: sometimes(
      fc.record({
        table: tableArb,
        count: fc.oneof(
          { weight: 3, arbitrary: fc.integer({ min: 1, max: 50 }) },
          { weight: 1, arbitrary: fc.constant(3000) },
        ),
      }),
      8,
    ),
    topExtras: fc.array(
      fc.tuple(
        fc
          .oneof(
            fc.constantFrom(
              '__proto__',
              'constructor',
              'schema_version',
              'migration',
              'Changes',
              '',
            ),
            fc.string({ unit: 'binary', maxLength: 8 }),
          )
          .filter((key) => key !== 'changes' && key !== 'last_pulled_at'),
        extraValueArb,
      ),
      { maxLength: 2 },
    ),
  });
}

function wireRecord(
  table: string,
  id: string,
  spec: RecordSpec,
  parentIds: Record<string, string>,
): { wire: JsonObject; expected: Record<string, unknown> } {
  const wire: JsonObject = { id };
  const expected: Record<string, unknown> = { id };
  for (const column of COLUMNS[table]) {
    const value = column.parent ? plain(parentIds[column.name]) : spec.values[column.name];
    setKey(wire, column.name, value.wire);
    expected[column.name] = value.expected;
  }
  for (const [key, value] of spec.extras) setKey(wire, key, value);
  return { wire, expected };
}

/**
 * Turns a spec into a push that is valid for a device holding exactly `known` (all ids fresh
 * otherwise): every parent link points at a record in the push or a known one, no id twice in
 * a table, updates and deletions of known records never touch the same id.
 */
export function buildPush(spec: PushSpec, known: Known = NO_KNOWN): BuiltPush {
  const pool = [...spec.ids];
  const changes = {} as BuiltPush['changes'];
  const expected = {} as BuiltPush['expected'];
  const used = {} as Record<string, Set<string>>;
  for (const table of SYNC_TABLE_NAMES) {
    changes[table] = { created: [], updated: [], deleted: [] };
    expected[table] = [];
    used[table] = new Set();
  }
  const fresh = {} as Record<string, string[]>;
  const newChildren: Location[] = [];

  const place = (table: string, spec: RecordSpec, id: string, isNew: boolean): boolean => {
    const parentIds: Record<string, string> = {};
    let i = 0;
    for (const column of COLUMNS[table]) {
      if (!column.parent) continue;
      const candidates = [...fresh[column.parent], ...known[column.parent]];
      if (candidates.length === 0) return false;
      parentIds[column.name] = candidates[spec.parents[i++] % candidates.length];
    }
    const { wire, expected: exp } = wireRecord(table, id, spec, parentIds);
    const array = spec.inCreated ? 'created' : 'updated';
    if (isNew && i > 0) newChildren.push({ table, array, index: changes[table][array].length });
    changes[table][array].push(wire);
    used[table].add(id);
    if (isNew) expected[table].push(exp);
    return true;
  };

  for (const table of SYNC_TABLE_NAMES) {
    fresh[table] = [];
    for (const recordSpec of spec.records[table]) {
      const id = pool[0];
      if (id === undefined) break;
      if (place(table, recordSpec, id, true)) {
        pool.shift();
        fresh[table].push(id);
      }
    }
  }
  for (const update of spec.updates) {
    const ids = known[update.table];
    const id = ids[update.pick % ids.length];
    if (id === undefined || used[update.table].has(id)) continue;
    place(update.table, update.spec, id, false);
  }
  for (const del of spec.deletes) {
    const id = del.known ? known[del.table][del.pick % known[del.table].length] : pool.shift();
    if (id === undefined || used[del.table].has(id)) continue;
    changes[del.table].deleted.push(id);
    used[del.table].add(id);
  }
  if (spec.padding) {
    const { table, count } = spec.padding;
    for (let i = 0; i < count; i++) changes[table].deleted.push(reservedId(`pad.${i}`));
  }
  return { changes, topExtras: spec.topExtras, expected, newChildren };
}

/** The push body as a JSON tree: `changes`, `last_pulled_at` and any ignored top-level keys. */
export function pushBody(push: BuiltPush, lastPulledAt: Json): JsonObject {
  const body: JsonObject = {};
  setKey(body, 'changes', cloneJson(push.changes as unknown as Json));
  setKey(body, 'last_pulled_at', lastPulledAt);
  for (const [key, value] of push.topExtras) setKey(body, key, value);
  return body;
}

// ---------------------------------------------------------------------------------------------
// Defects: each one alone makes a push unacceptable
// ---------------------------------------------------------------------------------------------

const BAD_ID_CHARS = [
  ' ',
  '"',
  "'",
  '\\',
  '/',
  ':',
  '?',
  '#',
  '%',
  '*',
  '+',
  ',',
  '\u0000',
  '\n',
  '\t',
  'é',
  'ß',
  '🎲',
  '\u202e',
  '\u200b',
  '\ud800',
  '\udc00',
  '\uff21',
];

/** Never an id: wrong type, wrong characters, wrong length. */
const badIdArb: fc.Arbitrary<Json> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .tuple(validIdArb, fc.constantFrom(...BAD_ID_CHARS), fc.nat())
      .map(
        ([id, bad, at]) => id.slice(0, at % (id.length + 1)) + bad + id.slice(at % (id.length + 1)),
      ),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom<Json>(
      '',
      'x'.repeat(ID_MAX_LENGTH + 1),
      'a'.repeat(1000),
      `../${FIRST_TABLE}`,
      'a/b',
      'a\\b',
      'a"b',
      "O'Brien",
      'a\nb',
      'abc\n',
      '\nabc',
      ' abc',
      'abc ',
      '\u0130d',
      '%2e%2e',
      '\ud83c',
    ),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom<Json>(
      0,
      1,
      -1,
      1.5,
      true,
      false,
      {},
      [],
      ['a'],
      { id: 'a' },
      new RawJson('1e400'),
      new RawJson('-0'),
    ),
  },
  { weight: 1, arbitrary: deepArb },
);

export type BadString =
  | { kind: 'tooLong'; extra: number; unit: string }
  | { kind: 'huge'; size: number; unit: string }
  | { kind: 'nul'; before: string; char: string; after: string }
  | { kind: 'notString'; value: Json };

const badStringArb: fc.Arbitrary<BadString> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('tooLong' as const),
      extra: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 100 })),
      unit: fc.constantFrom(...HEAVY_UNITS, '\ud800', 'a\u0301'),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('huge' as const),
      size: fc.integer({ min: 10_000, max: 1_000_000 }),
      unit: fc.constantFrom('x', '🎲', '"', '\\'),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('nul' as const),
      before: fc.string({ maxLength: 5 }),
      // NUL, and lone surrogates (no UTF-8 form): neither can be stored as sent.
      char: fc.constantFrom('\u0000', '\ud800', '\udc00'),
      after: fc.string({ maxLength: 5 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('notString' as const),
      value: fc.oneof(
        fc.constantFrom<Json>(0, 1, -0, 1.5, true, false, {}, [], ['text'], { text: 'a' }),
        fc.constantFrom(new RawJson('1e400'), new RawJson('-0')),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        deepArb,
      ),
    }),
  },
);

function badString(bad: BadString, max: number): Json {
  switch (bad.kind) {
    case 'tooLong':
      // `a\u0301` is two code points per unit: still over the limit, counted in code points.
      return bad.unit.repeat(max + bad.extra);
    case 'huge':
      return bad.unit.repeat(bad.size);
    case 'nul':
      return `${bad.before}${bad.char}${bad.after}`;
    case 'notString':
      return bad.value;
  }
}

const nonInteger = fc
  .double({ noNaN: true, noDefaultInfinity: true })
  .filter((x) => !Number.isInteger(x));

const NOT_A_NUMBER: Json[] = [
  '1',
  '0',
  '-0',
  '',
  ' 1',
  'NaN',
  'Infinity',
  '-Infinity',
  '0x10',
  '1e3',
  '١٢',
  true,
  false,
  [],
  [1],
  {},
  { value: 1 },
];

/** Never a 32-bit integer. `-0`, `1.0` and `1e3` are integers: they are not here. */
const badIntArb: fc.Arbitrary<Json> = fc.oneof(
  // Just past the boundaries, most often.
  { weight: 3, arbitrary: fc.constantFrom(INT32_MAX + 1, INT32_MIN - 1) },
  {
    weight: 3,
    arbitrary: fc.oneof(
      fc.integer({ min: INT32_MAX + 1, max: Number.MAX_SAFE_INTEGER }),
      fc.integer({ min: Number.MIN_SAFE_INTEGER, max: INT32_MIN - 1 }),
      fc.constantFrom(INT32_MAX + 1, INT32_MIN - 1, 2 ** 32, 2 ** 53, -(2 ** 53), 1e308, -1e308),
    ),
  },
  { weight: 2, arbitrary: nonInteger },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      new RawJson('1e400'),
      new RawJson('-1e400'),
      new RawJson(`${INT32_MAX + 1}.0`),
      new RawJson(`${INT32_MAX}.5`),
      new RawJson('9007199254740993'),
      new RawJson('0.1e1000'),
    ),
  },
  { weight: 2, arbitrary: fc.constantFrom(...NOT_A_NUMBER) },
  { weight: 1, arbitrary: deepArb },
);

/** Never epoch milliseconds in MS_MIN..MS_MAX. */
const badMsArb: fc.Arbitrary<Json> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(MS_MIN - 1, MS_MAX + 1) },
  {
    weight: 3,
    arbitrary: fc.oneof(
      fc.integer({ min: MS_MAX + 1, max: Number.MAX_SAFE_INTEGER }),
      fc.integer({ min: Number.MIN_SAFE_INTEGER, max: MS_MIN - 1 }),
      fc.constantFrom(MS_MIN - 1, MS_MAX + 1, 2 ** 53, 1e16, 1e300, -1764115200000),
    ),
  },
  { weight: 2, arbitrary: nonInteger },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      new RawJson('1e400'),
      new RawJson('-1e400'),
      new RawJson((MS_MAX + 1).toExponential()),
      new RawJson('1764115200000.5'),
      new RawJson('1e-7'),
    ),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom<Json>(...NOT_A_NUMBER, '1764115200000', '2025-11-26T00:00:00Z'),
  },
  { weight: 1, arbitrary: deepArb },
);

export type BadValue = { useNull: boolean; id: Json; string: BadString; int: Json; ms: Json };

const badValueArb: fc.Arbitrary<BadValue> = fc.record({
  // `null` for a non-nullable column about once in five.
  useNull: fc.nat(4).map((n) => n === 0),
  id: badIdArb,
  string: badStringArb,
  int: badIntArb,
  ms: badMsArb,
});

/** A value that the registry refuses for `column`. */
export function badValue(column: Column, bad: BadValue): Json {
  if (bad.useNull && !column.nullable) return null;
  switch (column.kind) {
    case 'id':
      return bad.id;
    case 'string':
      return badString(bad.string, column.maxLength!);
    case 'int':
      return bad.int;
    case 'ms':
      return bad.ms;
  }
}

/** Not an object, where a record, table or `changes` must be one (`null` tables count as empty). */
const notObjectArb = (withNull: boolean): fc.Arbitrary<Json> =>
  fc.oneof(
    fc.constantFrom<Json>(
      ...(withNull ? [null] : []),
      0,
      1,
      -1,
      true,
      false,
      '',
      'x',
      '{}',
      [],
      [{}],
    ),
    fc.constantFrom(new RawJson('1e400'), new RawJson('-0')),
    deepShapeArb.map((shape) => deepJson({ ...shape, kind: 'array' })),
  );

/** Not an array, where `created`, `updated` or `deleted` must be one. */
const notArrayArb: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(null, 0, 1, true, false, '', 'x', '[]', {}, { 0: 'a', length: 1 }),
  fc.constantFrom(new RawJson('1e400')),
  deepShapeArb.map((shape) => deepJson({ ...shape, kind: 'object' })),
);

const TABLE_NAMES = new Set(SYNC_TABLE_NAMES);
/** Near misses of a table name: case, singular, camelCase, spaces, NUL, a diaeresis, paths, SQL. */
const tableLookalikes = (name: string): string[] => [
  capitalize(name),
  name.toUpperCase(),
  name.replace(/s$/, ''),
  name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()),
  capitalize(name).replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()),
  `${name} `,
  ` ${name}`,
  `${name}\u0000`,
  `${name.slice(0, 2)}\u0308${name.slice(2)}`.normalize('NFC'),
  `${name}.created`,
  `${name}\\`,
  `${name}/`,
  `"${name}"`,
  `${name}; DROP TABLE ${name}`,
];
const unknownTableArb: fc.Arbitrary<string> = fc
  .oneof(
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        ...SYNC_TABLE_NAMES.flatMap(tableLookalikes),
        '__proto__',
        'constructor',
        'toString',
        'hasOwnProperty',
        'valueOf',
        '',
        'devices',
        'migrations',
        'pg_catalog.pg_user',
        '🎲',
        'مباريات',
        '\ud800',
        'changes',
        'last_pulled_at',
        '_status',
      ),
    },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
    { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
  )
  .filter((name) => !TABLE_NAMES.has(name));

export type TreeDefect =
  | { kind: 'dropBodyKey'; key: 'changes' | 'last_pulled_at' }
  | { kind: 'dropColumn'; rec: number; col: number }
  | { kind: 'wrongValue'; rec: number; col: number; bad: BadValue; dupKey: boolean }
  | { kind: 'notObjectRecord'; rec: number; value: Json }
  | { kind: 'notArray'; table: string; array: ArrayName; value: Json }
  | { kind: 'notObjectTable'; table: string; value: Json }
  | { kind: 'badDeletedId'; table: string; at: number; value: Json }
  | { kind: 'duplicateId'; rec: number; into: ArrayName }
  | { kind: 'unknownTable'; name: string; value: Json; emptyTable: boolean }
  | { kind: 'notObjectChanges'; value: Json }
  | { kind: 'badLastPulledAt'; value: Json }
  | { kind: 'lastPulledAtNotIssued'; ahead: number }
  | { kind: 'orphan'; child: number }
  | { kind: 'tooManyRecords'; table: string; extra: number };

const tableArb = fc.constantFrom(...SYNC_TABLE_NAMES);
const arrayArb = fc.constantFrom(...ARRAYS);

export const treeDefectArb: fc.Arbitrary<TreeDefect> = fc.oneof(
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('dropBodyKey' as const),
      key: fc.constantFrom('changes' as const, 'last_pulled_at' as const),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('dropColumn' as const),
      rec: fc.nat(),
      col: fc.nat(),
    }),
  },
  {
    weight: 10,
    arbitrary: fc.record({
      kind: fc.constant('wrongValue' as const),
      rec: fc.nat(),
      col: fc.nat(),
      bad: badValueArb,
      dupKey: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('notObjectRecord' as const),
      rec: fc.nat(),
      value: notObjectArb(true),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('notArray' as const),
      table: tableArb,
      array: arrayArb,
      value: notArrayArb,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('notObjectTable' as const),
      table: tableArb,
      value: notObjectArb(false),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('badDeletedId' as const),
      table: tableArb,
      at: fc.nat(),
      value: badIdArb,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('duplicateId' as const),
      rec: fc.nat(),
      into: arrayArb,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('unknownTable' as const),
      name: unknownTableArb,
      value: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
      emptyTable: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('notObjectChanges' as const),
      value: notObjectArb(true),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('badLastPulledAt' as const),
      value: fc.oneof(
        fc.constantFrom<Json>(0, new RawJson('-0'), new RawJson('0.0'), -1),
        fc.constantFrom<Json>(
          0,
          -1,
          1.5,
          -(2 ** 53),
          2 ** 53,
          2 ** 60,
          1e300,
          null,
          true,
          false,
          '',
          '1',
          'NaN',
          [],
          [1],
          {},
          { $gt: 0 },
          new RawJson('-0'),
          new RawJson('0.0'),
          new RawJson('1e400'),
          new RawJson('-1e400'),
          new RawJson('9007199254740993'),
          new RawJson('0.5'),
        ),
        fc.integer({ min: Number.MIN_SAFE_INTEGER, max: 0 }),
        nonInteger,
        deepArb,
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('lastPulledAtNotIssued' as const),
      ahead: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 2 ** 40 })),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('orphan' as const), child: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('tooManyRecords' as const),
      table: tableArb,
      extra: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 100 })),
    }),
  },
);

/** JSON text that is not an object, or not JSON at all. */
export type TextDefect =
  | { kind: 'wrap'; form: 'array' | 'string' | 'deepArray' }
  | { kind: 'replace'; text: string }
  | { kind: 'truncate'; at: number }
  | { kind: 'trailing'; junk: string }
  | { kind: 'badToken'; token: string }
  | { kind: 'badByte'; byte: number; inString: boolean };

const INVALID_TOKENS = [
  'NaN',
  'Infinity',
  '-Infinity',
  'undefined',
  'None',
  'nul',
  'True',
  '0x10',
  '01',
  '.5',
  '+1',
  '1.',
  '-',
  '1e',
  "'single'",
  '"\\x41"',
  '"\\u12"',
  '"\\ud800',
  '"raw\u0000nul"',
  '"raw\nnewline"',
  '"raw\ttab"',
  '[1,]',
  '{"a":1,}',
  '{a:1}',
  '/*comment*/1',
  '\ufeff1',
  '\u00a01',
];

export const textDefectArb: fc.Arbitrary<TextDefect> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('wrap' as const),
      form: fc.constantFrom('array' as const, 'string' as const, 'deepArray' as const),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('replace' as const),
      text: fc.oneof(
        fc.constantFrom(
          'null',
          '0',
          '-0',
          '1e400',
          'true',
          '"push"',
          '[]',
          '[{}]',
          '',
          ' ',
          '\u0000',
          '{',
          '}',
          '{}}',
          '{"changes":{}',
          "{'changes':{}}",
          '{changes:{}}',
          'changes=x',
          '<xml/>',
          '\ufeff\ufeff{}',
          '[' + '['.repeat(999) + ']'.repeat(999) + ']',
        ),
        fc
          .string({ unit: 'binary', maxLength: 30 })
          .filter((s) => !/^\s*[{[]/.test(s) || !parses(s)),
      ),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('trailing' as const),
      junk: fc.constantFrom(
        'x',
        '}',
        ']',
        ',',
        '{}',
        '[]',
        'NaN',
        '\u0000',
        '//',
        '/**/',
        '"',
        '\ufeff',
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('badToken' as const),
      token: fc.constantFrom(...INVALID_TOKENS),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('badByte' as const),
      byte: fc.constantFrom(0x00, 0x80, 0xc0, 0xed, 0xfe, 0xff),
      inString: fc.boolean(),
    }),
  },
);

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** How the body travels: content type, charset, encoding, size. */
export type TransportDefect =
  | { kind: 'contentType'; type: string }
  | { kind: 'charset'; charset: string }
  | { kind: 'encoding'; encoding: string }
  | { kind: 'oversize'; how: 'whitespace' | 'padKey'; unit: string; extra: number }
  | { kind: 'gzipBomb'; extra: number };

export const transportDefectArb: fc.Arbitrary<TransportDefect> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('contentType' as const),
      type: fc.constantFrom(
        'text/plain',
        'text/plain; charset=utf-8',
        'text/json',
        'text/html',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=xyz',
        'application/xml',
        'application/octet-stream',
        'application/javascript',
        'application/json-patch+json',
        'application/jsonl',
        'image/png',
        '*/*',
        'json',
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('charset' as const),
      charset: fc.constantFrom(
        'latin1',
        'iso-8859-1',
        'ascii',
        'koi8-r',
        'utf-16',
        'utf-16le',
        'utf-16be',
        'x-unknown',
        'utf-99',
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('encoding' as const),
      encoding: fc.constantFrom(
        'gzip',
        'deflate',
        'br',
        'x-gzip',
        'compress',
        'x-foo',
        'gzip, gzip',
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('oversize' as const),
      how: fc.constantFrom('whitespace' as const, 'padKey' as const),
      unit: fc.constantFrom('x', 'é', '€', '🎲'),
      extra: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 100_000 })),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('gzipBomb' as const),
      extra: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 100_000 })),
    }),
  },
);

export type DefectPlan = {
  tree: TreeDefect[];
  text: TextDefect | null;
  transport: TransportDefect | null;
};

/** At least one defect: in the JSON tree (up to six), in the JSON text, in how it travels. */
export const defectPlanArb: fc.Arbitrary<DefectPlan> = fc
  .record({
    // Alone, a defect decides the status; together, the 400 must name each of them.
    tree: fc.oneof(
      { weight: 3, arbitrary: fc.array(treeDefectArb, { minLength: 1, maxLength: 1 }) },
      { weight: 3, arbitrary: fc.array(treeDefectArb, { minLength: 2, maxLength: 6 }) },
      { weight: 1, arbitrary: fc.constant<TreeDefect[]>([]) },
    ),
    // Rarer: once the text is not JSON, the tree's defects are never looked at.
    text: sometimes(textDefectArb, 6),
    transport: sometimes(transportDefectArb, 5),
  })
  .filter((plan) => plan.tree.length > 0 || plan.text !== null || plan.transport !== null);

const TREE_KINDS: ReadonlyArray<TreeDefect['kind']> = [
  'dropBodyKey',
  'dropColumn',
  'wrongValue',
  'notObjectRecord',
  'notArray',
  'notObjectTable',
  'badDeletedId',
  'duplicateId',
  'unknownTable',
  'notObjectChanges',
  'badLastPulledAt',
  'lastPulledAtNotIssued',
  'orphan',
  'tooManyRecords',
];
const TEXT_KINDS: ReadonlyArray<TextDefect['kind']> = [
  'wrap',
  'replace',
  'truncate',
  'trailing',
  'badToken',
  'badByte',
];
const TRANSPORT_KINDS: ReadonlyArray<TransportDefect['kind']> = [
  'contentType',
  'charset',
  'encoding',
  'oversize',
  'gzipBomb',
];

/** One value of `arb` with the given kind, the same on every run. */
const sampleKind = <T extends { kind: string }>(arb: fc.Arbitrary<T>, kind: T['kind']): T =>
  fc.sample(
    arb.filter((value) => value.kind === kind),
    { numRuns: 1, seed: 42 },
  )[0];

/**
 * Every kind of defect alone, in a valid push that has a child to orphan: run first on every run
 * of the refusal property, so that even a short run meets each of them once.
 */
export function pushDefectExamples(known: Known): Array<[PushSpec, DefectPlan]> {
  const [spec] = fc.sample(
    pushSpecArb(known).filter((s) => buildPush(s, known).newChildren.length > 0),
    { numRuns: 1, seed: 42 },
  );
  const none = { tree: [], text: null, transport: null };
  return [
    ...TREE_KINDS.map((kind) => ({ ...none, tree: [sampleKind(treeDefectArb, kind)] })),
    ...TEXT_KINDS.map((kind) => ({ ...none, text: sampleKind(textDefectArb, kind) })),
    ...TRANSPORT_KINDS.map((kind) => ({
      ...none,
      transport: sampleKind(transportDefectArb, kind),
    })),
  ].map((plan): [PushSpec, DefectPlan] => [spec, plan]);
}

export type Limits = { bodyBytes: number; maxRecords: number };

/** What is sent, and the statuses that fit the defects in it. */
export type WireRequest = {
  body: Buffer;
  contentType: string;
  contentEncoding?: string;
  allowed: Set<number>;
  /** The text defect claims the body is not JSON: the test checks that claim too. */
  mustNotParse: boolean;
  /** Offending paths that a 400 must name (when it is the validation's 400). */
  mustName: string[];
};

type Ctx = { push: BuiltPush; clock: number; limits: Limits };

function recordLocations(body: JsonObject): Array<Location & { record: JsonObject }> {
  const out: Array<Location & { record: JsonObject }> = [];
  const changes = body.changes;
  if (!isJsonObject(changes)) return out;
  for (const table of SYNC_TABLE_NAMES) {
    const t = changes[table];
    if (!isJsonObject(t)) continue;
    for (const array of ['created', 'updated'] as const) {
      const list = t[array];
      if (!Array.isArray(list)) continue;
      list.forEach((record, index) => {
        if (isJsonObject(record)) out.push({ table, array, index, record });
      });
    }
  }
  return out;
}

function tableOf(body: JsonObject, table: string): JsonObject | undefined {
  const changes = body.changes;
  if (!isJsonObject(changes)) return undefined;
  const t = changes[table];
  return isJsonObject(t) ? t : undefined;
}

/**
 * An offending path the 400 must name ("every offending path", CONTRACT.md), and a check that
 * the defect is still in the body once every defect of the plan is applied (a later one may have
 * replaced the record, table or `changes` that held it).
 */
type Probe = { path: string; live: () => boolean };
type Applied = { statuses: number[]; probes: Probe[] };

const own = (target: JsonObject, key: string) => Object.prototype.hasOwnProperty.call(target, key);

function locate(body: JsonObject, table: string, array: ArrayName, index: number): unknown {
  const list = tableOf(body, table)?.[array];
  return Array.isArray(list) ? list[index] : undefined;
}

/**
 * Applies one tree defect in place; returns the statuses it may cause and the paths a 400 must
 * name. When the body no longer has what a defect needs (an earlier defect removed it), it falls
 * back to dropping `last_pulled_at`, so every defect in the plan still leaves one.
 */
function applyTreeDefect(body: JsonObject, defect: TreeDefect, ctx: Ctx): Applied {
  const invalid = (probes: Probe[] = []): Applied => ({ statuses: [400], probes });
  const lastPulledAtProbe = (value: Json | undefined): Probe => ({
    path: 'last_pulled_at',
    live: () =>
      value === undefined ? !own(body, 'last_pulled_at') : Object.is(body.last_pulled_at, value),
  });
  const fallback = () => {
    delete body.last_pulled_at;
    return invalid([lastPulledAtProbe(undefined)]);
  };
  const changesProbe: Probe = { path: 'changes', live: () => !isJsonObject(body.changes) };
  switch (defect.kind) {
    case 'dropBodyKey':
      delete body[defect.key];
      return invalid([defect.key === 'changes' ? changesProbe : lastPulledAtProbe(undefined)]);
    case 'dropColumn': {
      const records = recordLocations(body);
      if (!records.length) return fallback();
      const { table, array, index, record } = records[defect.rec % records.length];
      const columns = recordColumns(table);
      const name = columns[defect.col % columns.length].name;
      delete record[name];
      return invalid([
        {
          path: `changes.${table}.${array}[${index}].${name}`,
          live: () => locate(body, table, array, index) === record && !own(record, name),
        },
      ]);
    }
    case 'wrongValue': {
      const records = recordLocations(body);
      if (!records.length) return fallback();
      const { table, array, index, record } = records[defect.rec % records.length];
      const columns = recordColumns(table);
      const column = columns[defect.col % columns.length];
      const bad = cloneJson(badValue(column, defect.bad));
      const path = `changes.${table}.${array}[${index}].${column.name}`;
      if (defect.dupKey && own(record, column.name)) {
        // Valid first, refused last: JSON.parse keeps the last.
        const dup = new DupKeys([...Object.entries(record), [column.name, bad]]);
        ((tableOf(body, table) as JsonObject)[array] as Json[])[index] = dup;
        return invalid([{ path, live: () => locate(body, table, array, index) === dup }]);
      }
      setKey(record, column.name, bad);
      return invalid([
        {
          path,
          live: () =>
            locate(body, table, array, index) === record &&
            own(record, column.name) &&
            Object.is(record[column.name], bad),
        },
      ]);
    }
    case 'notObjectRecord': {
      const records = recordLocations(body);
      if (!records.length) return fallback();
      const { table, array, index } = records[defect.rec % records.length];
      const value = cloneJson(defect.value);
      ((tableOf(body, table) as JsonObject)[array] as Json[])[index] = value;
      return invalid([
        {
          path: `changes.${table}.${array}[${index}]`,
          live: () => Object.is(locate(body, table, array, index), value),
        },
      ]);
    }
    case 'notArray': {
      const t = tableOf(body, defect.table);
      if (!t) return fallback();
      const value = cloneJson(defect.value);
      setKey(t, defect.array, value);
      return invalid([
        {
          path: `changes.${defect.table}.${defect.array}`,
          live: () => tableOf(body, defect.table) === t && Object.is(t[defect.array], value),
        },
      ]);
    }
    case 'notObjectTable': {
      const changes = body.changes;
      if (!isJsonObject(changes)) return fallback();
      const value = cloneJson(defect.value);
      setKey(changes, defect.table, value);
      return invalid([
        {
          path: `changes.${defect.table}`,
          live: () => body.changes === changes && Object.is(changes[defect.table], value),
        },
      ]);
    }
    case 'badDeletedId': {
      const t = tableOf(body, defect.table);
      if (!t || !Array.isArray(t.deleted)) return fallback();
      const deleted = t.deleted;
      const at = defect.at % (deleted.length + 1);
      const value = cloneJson(defect.value);
      deleted.splice(at, 0, value);
      return invalid([
        {
          path: `changes.${defect.table}.deleted[${at}]`,
          live: () =>
            tableOf(body, defect.table) === t &&
            t.deleted === deleted &&
            Object.is(deleted[at], value),
        },
      ]);
    }
    case 'duplicateId': {
      const records = recordLocations(body);
      if (!records.length) return fallback();
      const { table, array, index, record } = records[defect.rec % records.length];
      const t = tableOf(body, table) as JsonObject;
      const list = t[defect.into];
      const id = record.id;
      if (!Array.isArray(list) || typeof id !== 'string') return fallback();
      const copy = defect.into === 'deleted' ? id : cloneJson(record);
      list.push(copy);
      return invalid([
        {
          path: `changes.${table}`,
          live: () =>
            locate(body, table, array, index) === record &&
            record.id === id &&
            t[defect.into] === list &&
            list.includes(copy) &&
            (typeof copy === 'string' || copy.id === id),
        },
      ]);
    }
    case 'unknownTable': {
      const changes = body.changes;
      if (!isJsonObject(changes)) return fallback();
      const value = defect.emptyTable
        ? { created: [], updated: [], deleted: [] }
        : cloneJson(defect.value);
      setKey(changes, defect.name, value);
      return invalid([
        {
          path: `changes.${defect.name}`,
          live: () => body.changes === changes && own(changes, defect.name),
        },
      ]);
    }
    case 'notObjectChanges':
      setKey(body, 'changes', cloneJson(defect.value));
      return invalid([changesProbe]);
    case 'badLastPulledAt': {
      const value = cloneJson(defect.value);
      setKey(body, 'last_pulled_at', value);
      return invalid([lastPulledAtProbe(value)]);
    }
    case 'lastPulledAtNotIssued':
      // Above anything this server issued to the device: refused once the shape is valid.
      setKey(body, 'last_pulled_at', ctx.clock + defect.ahead);
      return invalid();
    case 'orphan': {
      const children = ctx.push.newChildren;
      if (!children.length) return fallback();
      const { table, array, index } = children[defect.child % children.length];
      const record = locate(body, table, array, index);
      if (!isJsonObject(record)) return fallback();
      // Every parent link at an id that is nowhere: on the server nor in the push.
      for (const column of COLUMNS[table]) {
        if (column.parent) setKey(record, column.name, reservedId(`orphan.${column.name}`));
      }
      return { statuses: [422], probes: [] };
    }
    case 'tooManyRecords': {
      const t = tableOf(body, defect.table);
      if (!t || !Array.isArray(t.deleted)) return fallback();
      const n = ctx.limits.maxRecords + 1 + defect.extra;
      for (let i = 0; i < n; i++) t.deleted.push(reservedId(`many.${i}`));
      return { statuses: [413], probes: [] };
    }
  }
}

function applyTextDefect(
  text: string,
  defect: TextDefect,
): { text: string | Buffer; allowed: number[]; mustNotParse: boolean } {
  switch (defect.kind) {
    case 'wrap':
      return {
        text:
          defect.form === 'array'
            ? `[${text}]`
            : defect.form === 'string'
              ? JSON.stringify(text)
              : `[${'['.repeat(999)}${text}${']'.repeat(999)}]`,
        allowed: [400],
        mustNotParse: false,
      };
    case 'replace':
      return { text: defect.text, allowed: [400], mustNotParse: false };
    case 'truncate':
      // A proper prefix of an object's text is never JSON.
      return { text: text.slice(0, defect.at % text.length), allowed: [400], mustNotParse: true };
    case 'trailing':
      return { text: text + defect.junk, allowed: [400], mustNotParse: true };
    case 'badToken':
      return { text: `{"x":${defect.token},${text.slice(1)}`, allowed: [400], mustNotParse: true };
    case 'badByte': {
      const bytes = Buffer.from(text, 'utf8');
      const string = text.indexOf(':"') + 2;
      if (defect.inString && string > 1 && defect.byte >= 0x80) {
        // Not UTF-8 inside a string value: JSON.parse would read it (as U+FFFD), the server must not.
        const at = Buffer.byteLength(text.slice(0, string));
        return {
          text: Buffer.concat([
            bytes.subarray(0, at),
            Buffer.from([defect.byte]),
            bytes.subarray(at),
          ]),
          allowed: [400],
          mustNotParse: false,
        };
      }
      // A byte that is not UTF-8 (or a NUL) between tokens.
      return {
        text: Buffer.concat([bytes.subarray(0, 1), Buffer.from([defect.byte]), bytes.subarray(1)]),
        allowed: [400],
        mustNotParse: true,
      };
    }
  }
}

/** Builds the request for a valid push `body` spoiled by `plan`. */
export function spoil(body: JsonObject, plan: DefectPlan, ctx: Ctx): WireRequest {
  const allowed = new Set<number>();
  const probes: Probe[] = [];
  for (const defect of plan.tree) {
    const applied = applyTreeDefect(body, defect, ctx);
    applied.statuses.forEach((status) => allowed.add(status));
    probes.push(...applied.probes);
  }
  // Only a body that arrives as JSON is validated, and only then are its paths listed.
  const mustName =
    plan.text || plan.transport ? [] : probes.filter((p) => p.live()).map((p) => p.path);

  const transport = plan.transport;
  if (transport?.kind === 'oversize' && transport.how === 'padKey') {
    // Sized in bytes of the text; in multi-byte units it is fewer characters than bytes.
    const bytes = Buffer.byteLength(toJsonText(body), 'utf8') + '"_pad":"",'.length;
    const unitBytes = Buffer.byteLength(transport.unit, 'utf8');
    const count = Math.ceil((ctx.limits.bodyBytes - bytes + 1 + transport.extra) / unitBytes);
    setKey(body, '_pad', transport.unit.repeat(Math.max(1, count)));
  }
  let payload: string | Buffer = toJsonText(body);
  let mustNotParse = false;
  if (plan.text) {
    const result = applyTextDefect(payload, plan.text);
    payload = result.text;
    mustNotParse = result.mustNotParse;
    result.allowed.forEach((s) => allowed.add(s));
  }
  let buffer = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  let contentType = 'application/json';
  let contentEncoding: string | undefined;
  switch (transport?.kind) {
    case 'contentType':
      // Not read as JSON: nothing the server could apply.
      contentType = transport.type;
      allowed.add(400);
      allowed.add(415);
      break;
    case 'charset':
      contentType = `application/json; charset=${transport.charset}`;
      allowed.add(400);
      allowed.add(415);
      break;
    case 'encoding':
      // Declared compressed, sent plain.
      contentEncoding = transport.encoding;
      allowed.add(400);
      allowed.add(415);
      break;
    case 'oversize':
      if (transport.how === 'whitespace') {
        const missing = ctx.limits.bodyBytes - buffer.length + 1 + transport.extra;
        if (missing > 0) buffer = Buffer.concat([buffer, Buffer.alloc(missing, ' ')]);
      }
      allowed.add(413);
      break;
    case 'gzipBomb': {
      // Small on the wire, over the limit once inflated.
      const missing = Math.max(1, ctx.limits.bodyBytes - buffer.length + 1 + transport.extra);
      buffer = gzipSync(Buffer.concat([buffer, Buffer.alloc(missing, ' ')]), { level: 1 });
      contentEncoding = 'gzip';
      allowed.add(413);
      break;
    }
    default:
      break;
  }
  // Whatever else is wrong with it, a body over the limit may be refused for its size.
  if (!contentEncoding && buffer.length > ctx.limits.bodyBytes) allowed.add(413);
  return { body: buffer, contentType, contentEncoding, allowed, mustNotParse, mustName };
}

// ---------------------------------------------------------------------------------------------
// Pull query strings
// ---------------------------------------------------------------------------------------------

/** One `key=value` pair of a query string, as sent and as the server decodes it. */
export type QueryPart = {
  /** The key as the server decodes it; `?…` for raw junk whose decoding is left to the server. */
  key: string;
  rawKey: string;
  /** The value as the server decodes it (`null`: no `=`), unless `opaqueValue`. */
  value: string | null;
  rawValue: string | null;
  opaqueValue: boolean;
};

const SEMANTIC_KEYS = ['last_pulled_at', 'schema_version', 'migration'] as const;

/** Percent-encodes every byte that is not unreserved; optionally some unreserved ones too. */
function encode(s: string, mask: number): string {
  let out = '';
  let i = 0;
  for (const ch of s) {
    const keep = /^[A-Za-z0-9_.~!$'()*,:@/?-]$/.test(ch) && ((mask >> (i++ % 31)) & 1) === 0;
    if (keep) {
      out += ch;
      continue;
    }
    // Lone surrogates are sent as their (CESU-8) bytes: not UTF-8.
    const code = ch.codePointAt(0)!;
    const bytes =
      code >= 0xd800 && code <= 0xdfff
        ? Buffer.from([0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)])
        : Buffer.from(ch, 'utf8');
    out += [...bytes].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
  }
  return out;
}

/** Percent sequences that do not decode to UTF-8, or do not decode at all. */
const RAW_JUNK = [
  '%',
  '%%',
  '%zz',
  '%1',
  '%FF',
  '%ED%A0%80',
  '%C0%AF',
  '%E2%82',
  '%00',
  '+',
  '%2B1',
  '1%00',
  '%u0031',
  '%%31',
];

const numberTextArb: fc.Arbitrary<string> = fc.oneof(
  fc.integer().map(String),
  fc.maxSafeInteger().map(String),
  fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map(String),
  fc.double().map(String),
  fc.integer({ min: 1, max: 400 }).map((n) => '9'.repeat(n)),
  fc.constantFrom(
    '0',
    '-0',
    '00',
    '0000000000000001',
    '00000000000000001',
    '1',
    '-1',
    '+1',
    ' 1',
    '1 ',
    '1.0',
    '1.5',
    '1e3',
    '1e400',
    '-1e400',
    '0x1F',
    '0b1',
    '0o7',
    '1_000',
    '١٢٣',
    '１２',
    'NaN',
    'Infinity',
    '-Infinity',
    '9007199254740993',
    String(MS_MAX + 1),
    String(INT32_MAX + 1),
  ),
);

const junkTextArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    'null',
    'undefined',
    'true',
    'false',
    '[]',
    '{}',
    '[1]',
    '{"a":1}',
    '"1"',
    "'1'",
    '__proto__',
    '\u0000',
    '🎲',
    'مرحبا',
    '\u202e1',
  ),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ maxLength: 20 }),
  fc.constantFrom('\ud800', 'a\udc00b'),
);

const tableNameArb: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(
    ...SYNC_TABLE_NAMES,
    ...SYNC_TABLE_NAMES.map(capitalize),
    'unknown',
    '',
    '__proto__',
    'constructor',
    'x'.repeat(64),
    'x'.repeat(65),
    '🎲',
  ),
  fc.string({ unit: 'binary', maxLength: 10 }),
  fc.constantFrom<Json>(1, null, true, [], {}),
);

/** WatermelonDB's migration info, right or wrong in every field. */
const migrationArb: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .record(
        {
          from: fc.oneof(
            fc.integer({ min: 1, max: 100 }),
            fc.constantFrom<Json>(
              0,
              -1,
              1.5,
              '1',
              null,
              true,
              [],
              new RawJson('1e400'),
              new RawJson('-0'),
            ),
            fc.maxSafeInteger(),
          ),
          tables: fc.oneof(
            fc.array(tableNameArb, { maxLength: 5 }),
            fc.constantFrom<Json>(FIRST_TABLE, null, {}, 1),
            // One over ArrayMaxSize(1000), short enough for a URL.
            fc.constant(Array.from({ length: 1001 }, () => 'g') as Json),
          ),
          columns: fc.oneof(
            fc.array(
              fc.oneof(
                fc.record({
                  table: tableNameArb,
                  columns: fc.oneof(
                    fc.array(tableNameArb, { maxLength: 4 }),
                    fc.constantFrom<Json>(FIRST_COLUMN, null),
                  ),
                }),
                fc.constantFrom<Json>(null, [], FIRST_TABLE, 1),
              ),
              { maxLength: 3 },
            ),
            fc.constantFrom<Json>(FIRST_TABLE, null, {}),
          ),
          extra: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
        },
        { requiredKeys: [] },
      )
      .map((m) => toJsonText(m as JsonObject)),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom(
          JSON.stringify({ from: 1, tables: [FIRST_TABLE], columns: [] }),
          JSON.stringify({
            from: 1,
            tables: [],
            columns: [{ table: FIRST_TABLE, columns: [FIRST_COLUMN] }],
          }),
        ),
        fc.nat(),
      )
      .map(([json, at]) => json.slice(0, at % json.length)),
  },
  {
    weight: 1,
    arbitrary: deepShapeArb.map(
      (shape) => deepJson({ ...shape, depth: Math.min(shape.depth, 500) }).text,
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom('null', 'NULL', 'Null', '', ' null', '"null"') },
);

const keyArb: fc.Arbitrary<{ key: string; opaque: boolean }> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(...SEMANTIC_KEYS).map((key) => ({ key, opaque: false })),
  },
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        fc.constantFrom(
          'last_pulled_at[]',
          'last_pulled_at[0]',
          'last_pulled_at[a]',
          'migration[from]',
          'migration[tables][]',
          'LAST_PULLED_AT',
          'Last_Pulled_At',
          'lastPulledAt',
          'last_pulled_at ',
          ' last_pulled_at',
          '__proto__',
          '__proto__[last_pulled_at]',
          `__proto__[${POLLUTION_KEY}]`,
          `constructor[prototype][${POLLUTION_KEY}]`,
          'constructor',
          'toString',
          'hasOwnProperty',
          '',
          '🎲',
          'schema_version\u0000',
        ),
        fc.string({ unit: 'binary', maxLength: 10 }),
      )
      .filter((key) => !(SEMANTIC_KEYS as readonly string[]).includes(key))
      .map((key) => ({ key, opaque: false })),
  },
  { weight: 1, arbitrary: fc.constantFrom(...RAW_JUNK).map((key) => ({ key, opaque: true })) },
);

/** Timestamps the server returned to the device, oldest first; the last is its clock. */
export type Issued = readonly number[];
const clockOf = (issued: Issued) => issued[issued.length - 1];

/** Around zero, the timestamps issued, and the device clock: where the accepted range ends. */
const boundaryTextArb = (issued: Issued): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constantFrom('0', '-0', '00', '1', '-1', 'null', ''),
    fc.constantFrom(...issued.map(String), String(clockOf(issued) + 1)),
    fc.integer({ min: -2, max: 2 }).map((d) => String(clockOf(issued) + d)),
  );

const valueArb = (
  key: string,
  issued: Issued,
): fc.Arbitrary<{ value: string; opaque: boolean } | null> =>
  fc.oneof(
    { weight: 1, arbitrary: fc.constant(null) },
    {
      weight: 6,
      arbitrary: (key.startsWith('migration')
        ? fc.oneof(migrationArb, junkTextArb)
        : fc.oneof(
            { weight: 3, arbitrary: boundaryTextArb(issued) },
            { weight: 3, arbitrary: numberTextArb },
            { weight: 2, arbitrary: junkTextArb },
            { weight: 1, arbitrary: migrationArb },
          )
      ).map((value) => ({
        value,
        opaque: false,
      })),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(...RAW_JUNK).map((value) => ({ value, opaque: true })),
    },
  );

const partArb = (issued: Issued): fc.Arbitrary<QueryPart> =>
  fc
    .tuple(
      keyArb.chain((k) => fc.tuple(fc.constant(k), valueArb(k.key, issued))),
      fc.nat(),
      fc.nat(),
      fc.boolean(),
    )
    .map(([[k, v], keyMask, valueMask, plusForSpace]) => {
      const enc = (s: string, mask: number) => {
        const e = encode(s, mask);
        return plusForSpace ? e.replace(/%20/g, '+') : e;
      };
      return {
        key: k.opaque ? `?${k.key}` : k.key,
        rawKey: k.opaque ? k.key : enc(k.key, keyMask % 4 === 0 ? keyMask : 0),
        value: v === null ? null : v.value,
        rawValue:
          v === null
            ? null
            : v.opaque
              ? v.value
              : enc(v.value, valueMask % 4 === 0 ? valueMask : 0),
        opaqueValue: v?.opaque ?? false,
      };
    });

export type PullQuery = { parts: QueryPart[]; separator: string; trailing: string };

/** A query string: keys repeated (arrays), encoded oddly, separated oddly; under Node's 16 kB header limit. */
export const pullQueryArb = (issued: Issued): fc.Arbitrary<PullQuery> =>
  fc
    .record({
      // Mostly one or two parameters, so that each one decides the answer; sometimes a crowd.
      parts: fc.oneof(
        { weight: 3, arbitrary: fc.array(partArb(issued), { minLength: 1, maxLength: 2 }) },
        { weight: 2, arbitrary: fc.array(partArb(issued), { maxLength: 6 }) },
      ),
      separator: fc.constantFrom('&', '&', '&', '&&', ';'),
      trailing: fc.constantFrom('', '', '&', '#frag', '&='),
    })
    .filter((q) => queryText(q).length < 14_000);

/** A plainly encoded query, for examples: `[key, value]` pairs, `null` for a key without `=`. */
export function plainQuery(pairs: Array<[string, string | null]>): PullQuery {
  return {
    parts: pairs.map(([key, value]) => ({
      key,
      rawKey: encode(key, 0),
      value,
      rawValue: value === null ? null : encode(value, 0),
      opaqueValue: false,
    })),
    separator: '&',
    trailing: '',
  };
}

/** The edges of the accepted ranges, run first on every run of the pull property. */
export const pullQueryExamples = (issued: Issued): PullQuery[] => [
  plainQuery([]),
  ...issued.map((timestamp): PullQuery => plainQuery([['last_pulled_at', String(timestamp)]])),
  plainQuery([['last_pulled_at', String(clockOf(issued) + 1)]]),
  plainQuery([['last_pulled_at', '0']]),
  plainQuery([['last_pulled_at', '1']]),
  plainQuery([['last_pulled_at', '-1']]),
  plainQuery([['last_pulled_at', 'null']]),
  plainQuery([['last_pulled_at', null]]),
  plainQuery([['last_pulled_at', 'abc']]),
  plainQuery([['last_pulled_at', '1e400']]),
  plainQuery([['last_pulled_at', '9'.repeat(400)]]),
  plainQuery([
    ['last_pulled_at', '1'],
    ['last_pulled_at', '2'],
  ]),
  plainQuery([['schema_version', '0']]),
  plainQuery([['schema_version', '1']]),
  plainQuery([['schema_version', '-1']]),
  plainQuery([['schema_version', '1.5']]),
  plainQuery([['migration', 'null']]),
  plainQuery([['migration', JSON.stringify({ from: 1, tables: [FIRST_TABLE], columns: [] })]]),
  plainQuery([['migration', '{"from":0,"tables":[],"columns":[]}']]),
  plainQuery([['migration', JSON.stringify({ from: 1, tables: FIRST_TABLE, columns: [] })]]),
  plainQuery([
    [
      'migration',
      JSON.stringify({ from: 1, tables: [], columns: [{ table: FIRST_TABLE, columns: [1] }] }),
    ],
  ]),
  plainQuery([['migration', '[' + '['.repeat(999) + ']'.repeat(999) + ']']]),
  plainQuery([['migration', '{"from":1']]),
];

export function queryText({ parts, separator, trailing }: PullQuery): string {
  return (
    parts
      .map((p) => (p.rawValue === null ? p.rawKey : `${p.rawKey}=${p.rawValue}`))
      .join(separator) + trailing
  );
}

/**
 * The `last_pulled_at` a 200 must have answered from, when the query leaves no doubt: 0 (a first
 * sync) when no part can reach `last_pulled_at` or `migration`, or the one plain decimal
 * `last_pulled_at` given, up to the device clock. `undefined` when it is not that simple.
 */
export function expectedSince(query: PullQuery, clock: number): number | undefined {
  if (query.parts.some((p) => p.key.startsWith('?') || p.key.includes('migration'))) {
    return undefined;
  }
  const reaching = query.parts.filter((p) => p.key.includes('last_pulled_at'));
  if (reaching.length === 0) return 0;
  // `;` is no separator (the rest joins the value) and a raw `#` would end the query early.
  if (query.separator === ';' || query.trailing === '#frag') return undefined;
  const [part] = reaching;
  if (reaching.length > 1 || part.key !== 'last_pulled_at' || part.opaqueValue) return undefined;
  const value = part.value ?? '';
  if (value === '' || value === 'null') return 0;
  if (/^(0|[1-9]\d{0,15})$/.test(value) && Number(value) <= clock) return Number(value);
  return undefined;
}

const positiveInteger = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 1;
const negativeNonZero = /^-\d*[1-9]\d*$/;

/** CONTRACT.md: `migration` is absent, `null`, or `{ "from": int, "tables": [name], "columns": [{ table, columns: [name] }] }`. */
function migrationIsWrong(text: string): boolean {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return true;
  }
  if (value === null) return false;
  if (typeof value !== 'object' || Array.isArray(value)) return true;
  const { from, tables, columns } = value as Record<string, unknown>;
  if (!positiveInteger(from)) return true;
  if (!Array.isArray(tables) || tables.some((t) => typeof t !== 'string')) return true;
  if (!Array.isArray(columns)) return true;
  return columns.some((c: unknown) => {
    if (typeof c !== 'object' || c === null || Array.isArray(c)) return true;
    const entry = c as Record<string, unknown>;
    return (
      typeof entry.table !== 'string' ||
      !Array.isArray(entry.columns) ||
      entry.columns.some((name) => typeof name !== 'string')
    );
  });
}

/**
 * The status when the contract leaves the server no choice. 400: a `last_pulled_at` it never
 * issued (above the device clock, negative, not a number), a `schema_version` that is no
 * positive integer, a `migration` that is neither `null` nor WatermelonDB's JSON. 200: nothing
 * but a plain `last_pulled_at` and a positive `schema_version`. Only for parameters given once,
 * in a query whose decoding is plain; `undefined` when the contract allows more than one answer.
 */
export function requiredPullStatus(query: PullQuery, clock: number): 200 | 400 | undefined {
  if (query.separator === ';' || query.trailing === '#frag') return undefined;
  const single = (name: string): string | undefined => {
    const parts = query.parts.filter((p) => p.key === name);
    if (parts.length !== 1 || parts[0].opaqueValue) return undefined;
    return parts[0].value ?? '';
  };
  const absent = (v: string) => v === '' || v === 'null';

  const lastPulledAt = single('last_pulled_at');
  if (lastPulledAt !== undefined && !absent(lastPulledAt)) {
    if (/^\d+$/.test(lastPulledAt) && BigInt(lastPulledAt) > BigInt(clock)) return 400;
    if (negativeNonZero.test(lastPulledAt) || !/\d/.test(lastPulledAt)) return 400;
  }
  const schemaVersion = single('schema_version');
  if (schemaVersion !== undefined && !absent(schemaVersion)) {
    if (/^-?0+$/.test(schemaVersion) || negativeNonZero.test(schemaVersion)) return 400;
    if (!/\d/.test(schemaVersion)) return 400;
  }
  const migration = single('migration');
  if (migration !== undefined && !absent(migration) && migrationIsWrong(migration)) return 400;

  // Only a plain `last_pulled_at` (issued, or absent) and a positive `schema_version`: accepted.
  const plain = query.parts.every((p) => p.key === 'last_pulled_at' || p.key === 'schema_version');
  const versions = query.parts.filter((p) => p.key === 'schema_version');
  const versionOk =
    versions.length === 0 || (schemaVersion !== undefined && /^[1-9]\d{0,15}$/.test(schemaVersion));
  if (plain && versionOk && expectedSince(query, clock) !== undefined) return 200;
  return undefined;
}
