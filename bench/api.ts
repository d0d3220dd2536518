/**
 * The few calls of the sync API the benchmark makes one at a time (set-up and the timed single
 * requests), on node:http with keep-alive: it costs the driver less CPU than fetch, and the
 * driver shares the machine's cores with the server and PostgreSQL.
 */
import http from 'node:http';
import { OWNER } from './postgres';
import { Changes } from './records';

export type Device = {
  token: string;
  /** the rows' owner id (OWNER in the register answer) */ owner: string;
};
export type Reply = { status: number; body: Buffer; ms: number };

// The server closes a keep-alive connection idle for 5 s; ours are dropped at 4 s instead of
// being reused as the server closes them.
const agent = new http.Agent({ keepAlive: true, maxSockets: 64, timeout: 4_000 });

export function request(
  baseUrl: string,
  method: 'GET' | 'POST',
  path: string,
  token?: string,
  body?: string,
): Promise<Reply> {
  const headers: http.OutgoingHttpHeaders = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = Buffer.byteLength(body);
  }
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    const req = http.request(new URL(path, baseUrl), { method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks),
          ms: performance.now() - startedAt,
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

function expect(reply: Reply, status: number, what: string): Reply {
  if (reply.status !== status) {
    throw new Error(`${what} answered ${reply.status}: ${reply.body.toString().slice(0, 300)}`);
  }
  return reply;
}

/** A new device (and, for now, owner of its own rows). Registration lives here alone. */
export async function register(baseUrl: string, name: string): Promise<Device> {
  const body = JSON.stringify({ name, platform: 'bench' });
  const reply = expect(
    await request(baseUrl, 'POST', '/api/v1/devices/register', undefined, body),
    201,
    'register',
  );
  const answer = JSON.parse(reply.body.toString()) as Record<string, string>;
  return { token: answer.access_token, owner: answer[OWNER] };
}

export const pullPath = (lastPulledAt?: number) =>
  `/api/v1/sync/pull${lastPulledAt ? `?last_pulled_at=${lastPulledAt}` : ''}`;

export const PUSH_PATH = '/api/v1/sync/push';

export const pushBody = (changes: Changes, lastPulledAt: number) =>
  JSON.stringify({ changes, last_pulled_at: lastPulledAt });

export type PullAnswer = { changes: Changes; timestamp: number };

export const pull = (baseUrl: string, device: Device, lastPulledAt?: number) =>
  request(baseUrl, 'GET', pullPath(lastPulledAt), device.token);

export async function pullOk(baseUrl: string, device: Device, lastPulledAt?: number) {
  const reply = expect(await pull(baseUrl, device, lastPulledAt), 200, 'pull');
  return JSON.parse(reply.body.toString()) as PullAnswer;
}

/** `body` is the JSON text, so callers build it before they start a clock. */
export const push = (baseUrl: string, device: Device, body: string) =>
  request(baseUrl, 'POST', PUSH_PATH, device.token, body);

export const pushOk = async (baseUrl: string, device: Device, body: string) =>
  expect(await push(baseUrl, device, body), 200, 'push');

/** Records in a pull answer, over every table and array. */
export const pulledRecords = (answer: PullAnswer): number =>
  Object.values(answer.changes).reduce(
    (sum, table) => sum + table.created.length + table.updated.length + table.deleted.length,
    0,
  );
