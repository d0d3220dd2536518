import { Client } from 'pg';
import { freePort } from './setup/test-database';
import { openStream, OpenStream } from './utils/event-stream';
import { forgeJwt, nowSeconds } from './utils/jwt';
import { ServerProcess } from './utils/server-process';
import { syncApi } from './utils/sync-api';
import { game } from './utils/sync-records';
import { pairDevice, registerDevice, RegisteredDevice } from './utils/test-app';
import { ListeningApp, startListeningApp } from './utils/watermelon';

const isChanges = (frame: string) => frame.startsWith('event: changes\n');

describe('Live changes over Server-Sent Events (e2e)', () => {
  let one: ListeningApp;
  let two: ListeningApp;
  const saved = { ...process.env };
  const streams: OpenStream[] = [];

  beforeAll(async () => {
    Object.assign(process.env, { SYNC_EVENTS_PING_MS: '300', SYNC_EVENTS_PER_DEVICE: '2' });
    // Two instances of the app on one PostgreSQL.
    one = await startListeningApp();
    two = await startListeningApp();
  });
  afterAll(async () => {
    for (const stream of streams) stream.close();
    process.env = saved;
    await one.close();
    await two.close();
  });

  const open = async (app: ListeningApp, device: RegisteredDevice, extra = {}) => {
    const stream = await openStream(app.baseUrl, { ...device.auth, ...extra });
    streams.push(stream);
    return stream;
  };

  it('tells every open stream of the account, on any instance, within a second of a push', async () => {
    const phone = await registerDevice(one);
    const tablet = await pairDevice(one, phone);
    const stranger = await registerDevice(one);
    const onOne = await open(one, tablet);
    const onTwo = await open(two, phone);
    const theirs = await open(two, stranger);
    expect(onOne.status).toBe(200);
    expect(onOne.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(onOne.headers['cache-control']).toBe('no-cache');

    const before = [onOne.frames.length, onTwo.frames.length];
    const pushedAt = Date.now();
    // Pushed through instance two; instance one holds the tablet's stream.
    await syncApi(two, phone).pushOk({ games: { created: [game()] } });
    const { timestamp } = await syncApi(one, tablet).pullOk();
    for (const [i, stream] of [onOne, onTwo].entries()) {
      const frame = await stream.waitFor(isChanges, before[i], 1_000);
      expect(frame).toBe(`event: changes\ndata: ${JSON.stringify({ timestamp })}`);
    }
    expect(Date.now() - pushedAt).toBeLessThan(2_000);
    // Another account heard nothing but pings.
    expect(theirs.frames.filter(isChanges)).toEqual([]);
  });

  it('sends a ping comment at the configured interval, and is never compressed', async () => {
    const device = await registerDevice(one);
    const stream = await open(one, device, { 'Accept-Encoding': 'gzip, br' });
    expect(stream.headers['content-encoding']).toBeUndefined();
    await stream.waitFor((frame) => frame === ': ping', 0, 2_000);
    const before = stream.frames.length;
    await syncApi(one, device).pushOk({ games: { created: [game()] } });
    await stream.waitFor(isChanges, before, 1_000);
  });

  it('answers 429 past the streams a device may hold, and 401 without a valid token', async () => {
    const device = await registerDevice(one);
    await open(one, device);
    await open(one, device);
    const third = await open(one, device);
    expect(third.status).toBe(429);
    await third.ended;
    expect((await open(one, { ...device, auth: { Authorization: 'Bearer nope' } })).status).toBe(
      401,
    );
  });

  it('ends the stream when the device is revoked, whichever instance revokes it', async () => {
    const phone = await registerDevice(one);
    const lost = await pairDevice(one, phone);
    const stream = await open(one, lost);
    await two.http().delete(`/api/v1/account/devices/${lost.deviceId}`).set(phone.auth).expect(204);
    await stream.ended;
    // Another stream of the same account goes on.
    const kept = await open(one, phone);
    await kept.waitFor((frame) => frame === ': ping', 0, 2_000);
  });

  it('ends the stream when its token expires', async () => {
    const device = await registerDevice(one);
    const token = forgeJwt(
      { sub: device.deviceId, iat: nowSeconds(), exp: nowSeconds() + 2 },
      { secret: process.env.JWT_SECRET },
    );
    const stream = await open(one, { ...device, auth: { Authorization: `Bearer ${token}` } });
    expect(stream.status).toBe(200);
    const openedAt = Date.now();
    await stream.ended;
    expect(Date.now() - openedAt).toBeLessThan(4_000);
  });

  it('gets its listening connection back after PostgreSQL killed it, and events resume', async () => {
    const device = await registerDevice(one);
    const stream = await open(one, device);
    const admin = new Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    try {
      const killed = await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND query LIKE 'LISTEN %'`,
      );
      // One listener per instance.
      expect(killed.rowCount).toBeGreaterThanOrEqual(2);
    } finally {
      await admin.end();
    }
    // Pushes go on meanwhile; once the listener is back, the stream hears the account's clock.
    await syncApi(two, device).pushOk({ games: { created: [game()] } });
    const { timestamp } = await syncApi(two, device).pullOk();
    for (const deadline = Date.now() + 10_000; !stream.timestamps().includes(timestamp);) {
      if (Date.now() > deadline)
        throw new Error(`no event after the reconnect: ${stream.frames.join(' | ')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // And later pushes are announced as they happen.
    const before = stream.frames.length;
    await syncApi(two, device).pushOk({ games: { created: [game()] } });
    await stream.waitFor(isChanges, before, 2_000);
  });
});

describe('Live changes and shutdown (e2e, real process)', () => {
  it('ends open streams on SIGTERM and exits 0 promptly', async () => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const server = ServerProcess.start({
      DATABASE_URL: process.env.DATABASE_URL,
      PORT: String(port),
      JWT_SECRET: process.env.JWT_SECRET,
      DATA_DIR: '/nonexistent-data-dir-not-needed',
      LOG_LEVEL: 'warn',
    });
    try {
      await server.waitFor(`${base}/health`);
      const registered = await fetch(`${base}/api/v1/devices/register`, { method: 'POST' });
      const { access_token: token } = (await registered.json()) as { access_token: string };
      const streams = await Promise.all(
        [1, 2].map(() => openStream(base, { Authorization: `Bearer ${token}` })),
      );
      expect(streams.map((s) => s.status)).toEqual([200, 200]);
      const stoppedAt = Date.now();
      server.kill('SIGTERM');
      expect(await server.exit(8_000)).toEqual({ code: 0, signal: null });
      expect(Date.now() - stoppedAt).toBeLessThan(5_000);
      await Promise.all(streams.map((s) => s.ended));
    } finally {
      server.kill('SIGKILL');
    }
  });
});
