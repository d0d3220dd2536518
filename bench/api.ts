/**
 * The sync API calls the benchmark makes one at a time (set-up, timed single requests, the open
 * loop), on node:http with keep-alive: it costs the driver less CPU than fetch, and the driver
 * shares the machine's cores with the server and PostgreSQL.
 */
import http from 'node:http';
import { Changes } from './records';

/** `owner`: whose rows the device reads and writes (its account; its own id before accounts). */
export type Device = { token: string; owner: string };
export type Reply = { status: number; body: Buffer; ms: number };
export type PullAnswer = { changes: Changes; timestamp: number };

// The server closes a keep-alive connection idle for 5 s; ours are dropped at 4 s rather than
// reused just as the server closes them.
const agent = new http.Agent({ keepAlive: true, maxSockets: 64, timeout: 4_000 });

function request(
  url: string,
  path: string,
  token?: string,
  body?: string,
  extra: http.OutgoingHttpHeaders = {},
): Promise<Reply> {
  const headers: http.OutgoingHttpHeaders = { accept: 'application/json', ...extra };
  if (token) headers.authorization = `Bearer ${token}`;
  // A POST without a body ('') has no content type.
  if (body) headers['content-type'] = 'application/json';
  const method = body === undefined ? 'GET' : 'POST';
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    const req = http.request(new URL(path, url), { method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const ms = performance.now() - startedAt;
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), ms });
      });
    });
    req.on('error', (error) => reject(new Error(`${method} ${url}${path}: ${error.message}`)));
    req.end(body);
  });
}

function ok(reply: Reply, status: number, what: string): Reply {
  if (reply.status === status) return reply;
  throw new Error(`${what} answered ${reply.status}: ${reply.body.toString().slice(0, 300)}`);
}

/**
 * A new device: in an account of its own, or in the account of `pairWith` (a second device, as
 * a player's tablet). Registration is done here only, so that its API can change in one place;
 * builds from before accounts answer no account_id and cannot pair, and get a plain device.
 */
export async function register(url: string, name: string, pairWith?: Device): Promise<Device> {
  let pairing_code: string | undefined;
  if (pairWith) {
    const made = await request(url, '/api/v1/devices/pairing-codes', pairWith.token, '');
    if (made.status === 201)
      pairing_code = (JSON.parse(made.body.toString()) as { code: string }).code;
  }
  const body = JSON.stringify({ name, platform: 'bench', pairing_code });
  const reply = ok(
    await request(url, '/api/v1/devices/register', undefined, body),
    201,
    'register',
  );
  const answer = JSON.parse(reply.body.toString()) as Record<string, string>;
  return { token: answer.access_token, owner: answer.account_id ?? answer.device_id };
}

/** Calls `make(0..count-1)` 10 at a time: set-up, not load. */
export async function inBatches<T>(count: number, make: (i: number) => Promise<T>) {
  const all: T[] = [];
  for (let i = 0; i < count; i += 10) {
    all.push(
      ...(await Promise.all(
        Array.from({ length: Math.min(10, count - i) }, (_, k) => make(i + k)),
      )),
    );
  }
  return all;
}

export const PUSH_PATH = '/api/v1/sync/push';
export const pullPath = (lastPulledAt?: number) =>
  `/api/v1/sync/pull${lastPulledAt ? `?last_pulled_at=${lastPulledAt}` : ''}`;
export const pushBody = (changes: Changes, lastPulledAt: number) =>
  JSON.stringify({ changes, last_pulled_at: lastPulledAt });

export const pull = (url: string, device: Device, lastPulledAt?: number) =>
  request(url, pullPath(lastPulledAt), device.token);

/** A first pull as a phone sends it, asking for `encoding`: the bytes as they came on the wire. */
export const compressedPull = (url: string, device: Device, encoding: string) =>
  request(url, pullPath(), device.token, undefined, { 'accept-encoding': encoding });

export async function pullOk(url: string, device: Device, lastPulledAt?: number) {
  const reply = ok(await pull(url, device, lastPulledAt), 200, 'pull');
  return JSON.parse(reply.body.toString()) as PullAnswer;
}

/** `body` is the JSON text, so that callers build it before a clock starts. */
export const push = (url: string, device: Device, body: string) =>
  request(url, PUSH_PATH, device.token, body);

export const pushOk = async (url: string, device: Device, body: string) =>
  ok(await push(url, device, body), 200, 'push');

/** Records in a pull answer, over every table and array. */
export const pulledRecords = (answer: PullAnswer): number =>
  Object.values(answer.changes).reduce(
    (sum, table) => sum + table.created.length + table.updated.length + table.deleted.length,
    0,
  );
