import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort, makeTempDir } from './setup/test-database';
import { isAlive, ServerProcess } from './utils/server-process';

/** Pids of the processes that logged `msg` (pino's JSON lines). */
function pidsThatLogged(output: string, msg: RegExp): Set<number> {
  const pids = new Set<number>();
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { pid: number; msg: string };
    if (msg.test(entry.msg)) pids.add(entry.pid);
  }
  return pids;
}

/**
 * APP_WORKERS=2 on the embedded PostgreSQL, as `npm start` would run it: the primary provisions
 * the database once, both workers serve the one port with the one JWT secret, a worker that dies
 * is replaced, and SIGTERM stops the workers, then the database, with exit code 0.
 */
describe('Cluster of workers (e2e, real process)', () => {
  let dataDir: string;
  afterAll(() => dataDir && fs.rmSync(dataDir, { recursive: true, force: true }));

  it('serves from two workers, replaces a dead one, and stops cleanly on SIGTERM', async () => {
    dataDir = makeTempDir('sync-cluster-');
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const server = ServerProcess.start({
      DATABASE_URL: '',
      DATA_DIR: dataDir,
      PORT: String(port),
      EMBEDDED_PG_PORT: String(await freePort()),
      APP_WORKERS: '2',
      LOG_LEVEL: 'log',
    });
    await server.waitFor(`${base}/health`);
    // The primary logs before the workers, which listen one after the other.
    for (let i = 0; i < 100 && pidsThatLogged(server.output, /^Listening on/).size < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const workers = [...pidsThatLogged(server.output, /^Listening on/)];
    expect(workers).toHaveLength(2);
    const postmaster = Number(
      fs.readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0],
    );

    // A token from one worker is good on the other; new connections are spread over both.
    const register = await fetch(`${base}/api/v1/devices/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', connection: 'close' },
      body: JSON.stringify({ name: 'cluster' }),
    });
    const { access_token: token } = (await register.json()) as { access_token: string };
    for (let i = 0; i < 12; i++) {
      const pull = await fetch(`${base}/api/v1/sync/pull`, {
        headers: { authorization: `Bearer ${token}`, connection: 'close' },
      });
      expect(pull.status).toBe(200);
    }
    expect(pidsThatLogged(server.output, /^sync pull$/)).toEqual(new Set(workers));

    process.kill(workers[0], 'SIGKILL');
    for (let i = 0; i < 150 && pidsThatLogged(server.output, /^Listening on/).size < 3; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(server.output).toMatch(
      new RegExp(`Worker ${workers[0]} exited \\(SIGKILL\\); starting another`),
    );
    expect(pidsThatLogged(server.output, /^Listening on/).size).toBe(3);
    expect((await fetch(`${base}/health`)).status).toBe(200);

    server.kill('SIGTERM');
    expect(await server.exit()).toEqual({ code: 0, signal: null });
    expect(isAlive(workers[1])).toBe(false);
    expect(isAlive(postmaster)).toBe(false);
  }, 90_000);

  it('stops everything, PostgreSQL included, with exit code 1 when no worker can start', async () => {
    dataDir = makeTempDir('sync-cluster-');
    const port = await freePort();
    const pgPort = await freePort();
    // The port is taken, so every worker fails to listen: forking them again would loop forever.
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(port, resolve));
    try {
      const server = ServerProcess.start({
        DATABASE_URL: '',
        DATA_DIR: dataDir,
        PORT: String(port),
        EMBEDDED_PG_PORT: String(pgPort),
        APP_WORKERS: '2',
        LOG_LEVEL: 'log',
      });
      expect(await server.exit()).toEqual({ code: 1, signal: null });
      expect(server.output).toMatch(/Worker \d+ exited \(code 1\) before it served/);
      // The embedded PostgreSQL was started, then stopped: it removes its pid file on shutdown
      // and no longer accepts connections.
      expect(server.output).toMatch(/PostgreSQL/);
      expect(fs.existsSync(path.join(dataDir, 'pg', 'postmaster.pid'))).toBe(false);
      await expect(
        new Promise((resolve, reject) =>
          net.connect(pgPort, '127.0.0.1').on('connect', resolve).on('error', reject),
        ),
      ).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  }, 90_000);
});
