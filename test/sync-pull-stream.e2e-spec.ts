import http from 'node:http';
import { syncApi } from './utils/sync-api';
import { game } from './utils/sync-records';
import { TcpProxy } from './utils/tcp-proxy';
import { createTestApp, registerDevice, RegisteredDevice, TestApp } from './utils/test-app';

type RawResponse = {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** False when the response was cut off before its end. */
  complete: boolean;
};

/** A pull over a real socket, reporting a response broken off midway instead of throwing. */
function rawPull(baseUrl: string, device: RegisteredDevice): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${baseUrl}/api/v1/sync/pull`, { headers: device.auth }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      const done = () =>
        resolve({
          status: res.statusCode!,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
          complete: res.complete,
        });
      res.on('end', done);
      res.on('error', done);
    });
    req.on('error', reject);
  });
}

describe('Pull responses streamed as the rows come (e2e)', () => {
  let t: TestApp;
  let proxy: TcpProxy;
  let baseUrl: string;
  let device: RegisteredDevice;
  const realUrl = process.env.DATABASE_URL!;
  const GAMES = 6000; // about 1 MB of response: many chunks

  beforeAll(async () => {
    // The app reaches PostgreSQL through a proxy that the test can cut mid-statement.
    const proxied = await TcpProxy.forUrl(realUrl);
    proxy = proxied.proxy;
    process.env.DATABASE_URL = proxied.url;
    t = await createTestApp();
    await t.app.listen(0, '127.0.0.1');
    baseUrl = (await t.app.getUrl()).replace('[::1]', '127.0.0.1');
    device = await registerDevice(t);
    const api = syncApi(t, device);
    const games = Array.from({ length: GAMES }, () => game());
    await api.pushOk({ games: { created: games } });
  });
  afterAll(async () => {
    await t.close();
    await proxy.stop();
    process.env.DATABASE_URL = realUrl;
  });

  it('sends a small pull whole, with its length', async () => {
    const other = await registerDevice(t, 'empty');
    const response = await rawPull(baseUrl, other);
    expect(response.status).toBe(200);
    expect(response.complete).toBe(true);
    expect(Number(response.headers['content-length'])).toBe(Buffer.byteLength(response.body));
    expect(JSON.parse(response.body)).toMatchObject({ changes: { games: { updated: [] } } });
  });

  it('streams a big pull (chunked, no length) and it holds every record', async () => {
    const response = await rawPull(baseUrl, device);
    expect(response.status).toBe(200);
    expect(response.headers['content-length']).toBeUndefined();
    expect(response.headers['transfer-encoding']).toBe('chunked');
    expect(response.complete).toBe(true);
    const body = JSON.parse(response.body) as { changes: { games: { updated: unknown[] } } };
    expect(body.changes.games.updated).toHaveLength(GAMES);
  });

  it('breaks the response off when the database goes away mid-pull: never a short 200 body', async () => {
    // Through the first chunks (so the answer has started going out), not to the end.
    proxy.cutAfterBytes(400_000);
    const broken = await rawPull(baseUrl, device);
    expect(broken.status).toBe(200);
    expect(broken.complete).toBe(false);
    expect(() => JSON.parse(broken.body)).toThrow();

    // The pool reconnects: the next pull is whole again.
    const again = await rawPull(baseUrl, device);
    expect(again.complete).toBe(true);
    expect(
      (JSON.parse(again.body) as { changes: { games: { updated: unknown[] } } }).changes.games
        .updated,
    ).toHaveLength(GAMES);
  });
});
