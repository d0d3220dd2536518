import http, { IncomingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';
import { isDeepStrictEqual } from 'node:util';
import { SyncColumn } from '../../src/sync/registry/sync-column';
import { SYNC_TABLE_NAMES, SYNC_TABLES, SyncTable } from '../../src/sync/registry/sync-tables';
import { changes, Rec } from './sync-records';

/**
 * Shared pieces of the fault tests (test/fault-*.e2e-spec.ts): the FAULT_SCALE knob, a raw HTTP
 * client that never hangs and never throws, push batches with known ids, and the all-or-nothing
 * check of what a pull returns.
 */

/** Multiplies the amount of load and pushes of the fault tests (`FAULT_SCALE=10` for full size). */
export function faultScale(): number {
  const raw = process.env.FAULT_SCALE ?? '1';
  const scale = Number(raw);
  if (!Number.isFinite(scale) || scale <= 0) {
    throw new Error(`FAULT_SCALE must be a positive number, got "${raw}"`);
  }
  return scale;
}

/** Env for an app under fault tests: the rate limits must never bite the load. */
export const UNTHROTTLED = { THROTTLE_DEVICE_LIMIT: '1000000', THROTTLE_REGISTER_LIMIT: '1000000' };

export type HttpResult = {
  /** The HTTP status, or 0 when there was no response (see `error`). */
  status: number;
  /** `ECONNREFUSED`, `ECONNRESET`, `TIMEOUT` (no answer within the client's bound), ... */
  error?: string;
  headers: IncomingHttpHeaders;
  text: string;
  /** performance.now() when the request was sent and when it ended (answered or failed). */
  startedAt: number;
  endedAt: number;
};

export const elapsed = (r: HttpResult) => r.endedAt - r.startedAt;

export type CallOptions = {
  token?: string;
  body?: unknown;
  timeoutMs?: number;
  /** A keep-alive agent, to reuse its connection the way real clients do. */
  agent?: http.Agent;
};

/**
 * One request, by default on its own connection (no keep-alive, `Connection: close`), so a
 * request is always a new connection and a socket the server leaves open shows up as `TIMEOUT`.
 */
export function httpCall(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  options: CallOptions = {},
): Promise<HttpResult> {
  const { request, payload, result } = openRequest(base, method, path, options, {});
  request.end(payload);
  return result;
}

export type Upload = {
  /** Resolves once the server has taken the request in (answered `100 Continue`). */
  accepted: Promise<void>;
  /** Sends the body. */
  send(): void;
  result: Promise<HttpResult>;
};

/**
 * A request whose body is held back: with `Expect: 100-continue`, Node's HTTP server answers
 * `100 Continue` once it has accepted the connection and parsed the headers, so the request is
 * provably in the server's hands (in flight) before its body is sent with `send()`.
 */
export function startUpload(
  base: string,
  path: string,
  options: Omit<CallOptions, 'agent'>,
): Upload {
  const { request, payload, result } = openRequest(base, 'POST', path, options, {
    Expect: '100-continue',
  });
  const accepted = new Promise<void>((resolve, reject) => {
    request.once('continue', () => resolve());
    void result.then((r) => reject(new Error(`no 100 Continue: ${describeResult(r)}`)));
  });
  // Awaiting `accepted` still sees a rejection; an upload nobody waits for must not crash jest.
  accepted.catch(() => undefined);
  request.flushHeaders();
  return { accepted, send: () => request.end(payload), result };
}

function openRequest(
  base: string,
  method: 'GET' | 'POST',
  path: string,
  { token, body, timeoutMs = 30_000, agent }: CallOptions,
  extraHeaders: Record<string, string>,
): { request: http.ClientRequest; payload?: Buffer; result: Promise<HttpResult> } {
  const url = new URL(path, base);
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  const headers: Record<string, string | number> = agent ? {} : { Connection: 'close' };
  Object.assign(headers, extraHeaders);
  if (token) headers.Authorization = `Bearer ${token}`;
  if (payload) {
    headers['Content-Type'] = 'application/json';
    headers['Content-Length'] = payload.length;
  }
  const startedAt = performance.now();
  const request = http.request({
    host: url.hostname,
    port: url.port,
    path: url.pathname + url.search,
    method,
    headers,
    agent: agent ?? false,
  });
  const result = new Promise<HttpResult>((resolve) => {
    let settled = false;
    const finish = (outcome: Omit<HttpResult, 'startedAt' | 'endedAt'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...outcome, startedAt, endedAt: performance.now() });
    };
    const fail = (error: NodeJS.ErrnoException) =>
      finish({ status: 0, error: error.code ?? error.message, headers: {}, text: '' });
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', fail);
      response.on('aborted', () => fail(Object.assign(new Error('aborted'), { code: 'ABORTED' })));
      response.on('end', () =>
        finish({
          status: response.statusCode ?? 0,
          headers: response.headers,
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    const timer = setTimeout(() => {
      fail(Object.assign(new Error('timeout'), { code: 'TIMEOUT' }));
      request.destroy();
    }, timeoutMs);
    request.on('error', fail);
  });
  return { request, payload, result };
}

export const jsonOf = <T = Record<string, unknown>>(result: HttpResult): T => {
  try {
    return JSON.parse(result.text) as T;
  } catch {
    return {} as T;
  }
};

/** A short description of a result for assertion messages. */
export const describeResult = (r: HttpResult) =>
  `${r.status || r.error} after ${Math.round(elapsed(r))} ms${r.status >= 400 ? `: ${r.text.slice(0, 300)}` : ''}`;

export type FaultDevice = { deviceId: string; accountId: string; token: string; since: number };

/** Registers a device and takes its first `timestamp` (a valid `last_pulled_at` for its pushes). */
export async function registerFaultDevice(base: string, name: string): Promise<FaultDevice> {
  const registered = await httpCall(base, 'POST', '/api/v1/devices/register', {
    body: { name, platform: 'fault-test' },
  });
  if (registered.status !== 201) throw new Error(`register: ${describeResult(registered)}`);
  const {
    device_id: deviceId,
    account_id: accountId,
    access_token: token,
  } = jsonOf<{
    device_id: string;
    account_id: string;
    access_token: string;
  }>(registered);
  const pulled = await pullAll(base, token);
  return { deviceId, accountId, token, since: pulled.timestamp };
}

export type PulledChanges = Record<string, { created: Rec[]; updated: Rec[]; deleted: string[] }>;

/** A first-sync pull (every live record of the device), failing on anything but 200. */
export async function pullAll(
  base: string,
  token: string,
): Promise<{ changes: PulledChanges; timestamp: number }> {
  const pulled = await httpCall(base, 'GET', '/api/v1/sync/pull', { token });
  if (pulled.status !== 200) throw new Error(`pull: ${describeResult(pulled)}`);
  return jsonOf(pulled);
}

/** A push of new records with known ids, in every registry table. */
export type Batch = {
  tag: string;
  records: Record<string, Rec[]>;
  count: number;
};

/** A value of `column` that differs from record to record; `null` on every third where nullable. */
function varied(column: SyncColumn, text: string, n: number): unknown {
  if (column.nullable && n % 3 === 2) return null;
  switch (column.kind) {
    case 'id':
      return `${text}.${n}`;
    case 'string':
      return [...`${n} ${text}`].slice(0, column.maxLength).join('');
    case 'int':
      return (n * 7) % 200;
    case 'ms':
      return 1764115200000 + n;
  }
}

/**
 * About `size` records (at least one per table) spread over the registry's tables, so that a push
 * writes several statements and a half-applied one would show. A root table (no parents) gets one
 * record, the other tables share the rest; each parent link points at this batch's records of
 * the parent table in turn. Ids are `<tag>.<table>.<n>`; values vary per record so that a
 * mixed-up row would show too.
 */
export function buildBatch(tag: string, size: number): Batch {
  const isChild = (table: SyncTable) => Object.keys(table.parents).length > 0;
  const children = SYNC_TABLES.filter(isChild).length;
  const roots = SYNC_TABLES.length - children;
  const perChild = Math.max(1, Math.ceil((size - roots) / Math.max(1, children)));
  const records: Record<string, Rec[]> = {};
  for (const table of SYNC_TABLES) {
    records[table.name] = Array.from({ length: isChild(table) ? perChild : 1 }, (_, n) => {
      const record: Rec = { id: `${tag}.${table.name}.${n}` };
      Object.entries(table.columns).forEach(([name, column], c) => {
        const parents = records[table.parents[name]];
        record[name] = parents
          ? parents[n % parents.length].id
          : varied(column, `${tag}.${name}`, n + c);
      });
      return record;
    });
  }
  const count = Object.values(records).reduce((sum, list) => sum + list.length, 0);
  return { tag, records, count };
}

/**
 * The push body of a batch, as the WatermelonDB client sends new records. `deletedIds`: ids to
 * list as deleted in the first table too (ids the server does not have are a no-op).
 */
export function pushBody(
  batch: Batch,
  lastPulledAt: number,
  deletedIds: string[] = [],
): Record<string, unknown> {
  const input = Object.fromEntries(
    SYNC_TABLE_NAMES.map((table, i) => [
      table,
      { created: batch.records[table], deleted: i === 0 ? deletedIds : [] },
    ]),
  );
  return { changes: changes(input), last_pulled_at: lastPulledAt };
}

export function pushBatch(
  base: string,
  device: FaultDevice,
  batch: Batch,
  options: Omit<CallOptions, 'token' | 'body'> & { deletedIds?: string[] } = {},
): Promise<HttpResult> {
  const { deletedIds, ...callOptions } = options;
  return httpCall(base, 'POST', '/api/v1/sync/push', {
    ...callOptions,
    token: device.token,
    body: pushBody(batch, device.since, deletedIds),
  });
}

export type BatchState = 'full' | 'absent' | 'partial';

export type BatchCheck = {
  states: Map<string, { state: BatchState; present: number; count: number; mismatched: string[] }>;
  /** Pulled ids that belong to none of the batches. */
  strays: string[];
};

/**
 * Where each batch stands in a device's first-sync pull: all its records there with exactly the
 * pushed values ('full'), none of them ('absent'), or anything else ('partial', never allowed).
 */
export function checkBatches(pulled: PulledChanges, batches: Batch[]): BatchCheck {
  const rows = new Map<string, Rec>();
  for (const table of SYNC_TABLE_NAMES) {
    for (const record of [...pulled[table].created, ...pulled[table].updated]) {
      rows.set(`${table}/${record.id}`, record);
    }
  }
  const states: BatchCheck['states'] = new Map();
  const known = new Set<string>();
  for (const batch of batches) {
    let present = 0;
    const mismatched: string[] = [];
    for (const table of SYNC_TABLE_NAMES) {
      for (const record of batch.records[table]) {
        const key = `${table}/${record.id}`;
        known.add(key);
        const row = rows.get(key);
        if (!row) continue;
        present++;
        if (!isDeepStrictEqual(row, record)) mismatched.push(key);
      }
    }
    const state: BatchState =
      present === 0
        ? 'absent'
        : present === batch.count && mismatched.length === 0
          ? 'full'
          : 'partial';
    states.set(batch.tag, { state, present, count: batch.count, mismatched });
  }
  const strays = [...rows.keys()].filter((key) => !known.has(key));
  return { states, strays };
}

/** A bounded polling loop: resolves once `probe` returns a truthy value, else fails after `timeoutMs`. */
export async function pollUntil<T>(
  what: string,
  probe: () => Promise<T | undefined | false | null>,
  { timeoutMs = 15_000, intervalMs = 50 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (performance.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
