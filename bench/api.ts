import http from 'node:http';
import { Changes, TABLES, WireRecord } from './records';

/**
 * A minimal client of the sync API on node:http with keep-alive: it costs the driver less CPU
 * than fetch, which matters since the driver shares the 2 cores with the server and PostgreSQL.
 */

export type HttpResult = { status: number; body: Buffer; ms: number };

export type Device = { deviceId: string; token: string };

export type PullResponse = {
  changes: Record<string, { created: WireRecord[]; updated: WireRecord[]; deleted: string[] }>;
  timestamp: number;
};

export class ApiClient {
  private readonly agent: http.Agent;
  private readonly url: URL;

  constructor(baseUrl: string) {
    this.url = new URL(baseUrl);
    // Node's server drops idle keep-alive sockets after 5 s; dropping ours at 4 s avoids
    // reusing a socket the server is closing at that very moment.
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 512, timeout: 4_000 });
  }

  request(
    method: 'GET' | 'POST',
    path: string,
    options: { token?: string; body?: string } = {},
  ): Promise<HttpResult> {
    const headers: http.OutgoingHttpHeaders = { accept: 'application/json' };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(options.body);
    }
    return new Promise((resolve, reject) => {
      const startedAt = performance.now();
      const request = http.request(
        {
          host: this.url.hostname,
          port: this.url.port,
          method,
          path,
          headers,
          agent: this.agent,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks),
              ms: performance.now() - startedAt,
            }),
          );
        },
      );
      request.on('error', reject);
      request.end(options.body);
    });
  }

  async register(name: string): Promise<Device> {
    const result = await this.request('POST', '/api/v1/devices/register', {
      body: JSON.stringify({ name, platform: 'bench' }),
    });
    expectStatus(result, 201, 'register');
    const body = JSON.parse(result.body.toString()) as { device_id: string; access_token: string };
    return { deviceId: body.device_id, token: body.access_token };
  }

  pull(device: Device, lastPulledAt?: number): Promise<HttpResult> {
    const query = lastPulledAt === undefined ? '' : `?last_pulled_at=${lastPulledAt}`;
    return this.request('GET', `/api/v1/sync/pull${query}`, { token: device.token });
  }

  /** `body` is the JSON text, so callers can build it before they start the clock. */
  push(device: Device, body: string): Promise<HttpResult> {
    return this.request('POST', '/api/v1/sync/push', { token: device.token, body });
  }

  /** A pull that must succeed, parsed. */
  async pullParsed(device: Device, lastPulledAt?: number): Promise<PullResponse> {
    const result = await this.pull(device, lastPulledAt);
    expectStatus(result, 200, 'pull');
    return JSON.parse(result.body.toString()) as PullResponse;
  }

  /** A push that must succeed. */
  async pushOk(device: Device, changes: Changes, lastPulledAt: number): Promise<HttpResult> {
    const result = await this.push(device, pushBody(changes, lastPulledAt));
    expectStatus(result, 200, 'push');
    return result;
  }

  close(): void {
    this.agent.destroy();
  }
}

export const pushBody = (changes: Changes, lastPulledAt: number): string =>
  JSON.stringify({ changes, last_pulled_at: lastPulledAt });

export function expectStatus(result: HttpResult, status: number, what: string): void {
  if (result.status !== status) {
    throw new Error(
      `${what} answered ${result.status} (expected ${status}): ${result.body.toString().slice(0, 500)}`,
    );
  }
}

/** Records in a pull response (live ones in `updated`, plus tombstones), over every table. */
export const pulledRecords = (response: PullResponse): number =>
  TABLES.reduce(
    (sum, table) =>
      sum +
      (response.changes[table]?.updated.length ?? 0) +
      (response.changes[table]?.created.length ?? 0) +
      (response.changes[table]?.deleted.length ?? 0),
    0,
  );
