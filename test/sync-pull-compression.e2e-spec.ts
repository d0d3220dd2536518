import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { syncApi } from './utils/sync-api';
import { game } from './utils/sync-records';
import { createTestApp, registerDevice, RegisteredDevice, TestApp } from './utils/test-app';

type RawAnswer = { status: number; headers: http.IncomingHttpHeaders; bytes: Buffer };

/**
 * Compressed pulls as a client sees them on the wire: raw bytes over node:http, which neither
 * asks for compression nor undoes it by itself.
 */
describe('Compressed pulls (e2e, raw HTTP)', () => {
  let t: TestApp;
  let port: number;
  let small: RegisteredDevice;
  let medium: RegisteredDevice;
  let large: RegisteredDevice;

  beforeAll(async () => {
    t = await createTestApp();
    await t.app.listen(0, '127.0.0.1');
    port = (t.app.getHttpServer().address() as AddressInfo).port;
    small = await registerDevice(t);
    medium = await registerDevice(t);
    await syncApi(t, medium).pushOk({
      games: { created: Array.from({ length: 50 }, () => game()) },
    });
    large = await registerDevice(t);
    await syncApi(t, large).pushOk({
      games: {
        created: Array.from({ length: 3000 }, (_, i) =>
          game({ name: `Game ${i} ${'·'.repeat(30)}` }),
        ),
      },
    });
  });
  afterAll(() => t.close());

  function pull(
    device: RegisteredDevice,
    acceptEncoding?: string,
    path = '/api/v1/sync/pull',
  ): Promise<RawAnswer> {
    return new Promise((resolve, reject) => {
      const request = http.get(
        {
          port,
          host: '127.0.0.1',
          path,
          headers: {
            ...device.auth,
            ...(acceptEncoding === undefined ? {} : { 'Accept-Encoding': acceptEncoding }),
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () =>
            resolve({
              status: response.statusCode!,
              headers: response.headers,
              bytes: Buffer.concat(chunks),
            }),
          );
          response.on('error', reject);
        },
      );
      request.on('error', reject);
    });
  }

  const decode = ({ headers, bytes }: RawAnswer): unknown => {
    const encoding = headers['content-encoding'];
    const text =
      encoding === 'gzip'
        ? zlib.gunzipSync(bytes)
        : encoding === 'br'
          ? zlib.brotliDecompressSync(bytes)
          : bytes;
    return JSON.parse(text.toString('utf8'));
  };

  const withoutTimestamp = (body: unknown) => ({ ...(body as object), timestamp: 0 });

  it('sends a pull over 1 KiB with the encoding the client accepts, and the same JSON', async () => {
    const plain = await pull(medium);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(Number(plain.headers['content-length'])).toBe(plain.bytes.length);
    expect(plain.bytes.length).toBeGreaterThan(1024);

    for (const [accept, expected] of [
      ['gzip', 'gzip'],
      ['br', 'br'],
      ['gzip, deflate, br', 'br'],
      ['gzip;q=1, br;q=0.5', 'gzip'],
    ] as const) {
      const answer = await pull(medium, accept);
      expect({
        accept,
        status: answer.status,
        encoding: answer.headers['content-encoding'],
      }).toEqual({
        accept,
        status: 200,
        encoding: expected,
      });
      expect(answer.headers.vary).toMatch(/accept-encoding/i);
      expect(answer.bytes.length).toBeLessThan(plain.bytes.length / 3);
      expect(withoutTimestamp(decode(answer))).toEqual(withoutTimestamp(decode(plain)));
    }
  });

  it('sends a pull under 1 KiB as it is, and nothing a client did not ask for', async () => {
    const tiny = await pull(small, 'gzip, br');
    expect(tiny.headers['content-encoding']).toBeUndefined();
    expect(tiny.bytes.length).toBeLessThan(1024);
    for (const accept of ['identity', 'deflate', 'compress', '*;q=0']) {
      const answer = await pull(medium, accept);
      expect({ accept, encoding: answer.headers['content-encoding'] }).toEqual({
        accept,
        encoding: undefined,
      });
      expect(decode(answer)).toMatchObject({ changes: { games: { updated: expect.any(Array) } } });
    }
  });

  it('compresses a streamed pull as it streams: chunked, whole once inflated', async () => {
    const plain = await pull(large);
    expect(plain.headers['transfer-encoding']).toBe('chunked');
    for (const accept of ['gzip', 'br']) {
      const answer = await pull(large, accept);
      expect(answer.headers['content-encoding']).toBe(accept);
      expect(answer.headers['transfer-encoding']).toBe('chunked');
      const body = decode(answer) as { changes: { games: { updated: unknown[] } } };
      expect(body.changes.games.updated).toHaveLength(3000);
      expect(withoutTimestamp(body)).toEqual(withoutTimestamp(decode(plain)));
    }
  });

  it('refuses what it refuses as it always did, compressed or not', async () => {
    const refused = await pull(small, 'gzip', '/api/v1/sync/pull?last_pulled_at=abc');
    expect(refused.status).toBe(400);
    expect(decode(refused)).toMatchObject({ statusCode: 400 });
  });
});
