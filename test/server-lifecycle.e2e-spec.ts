import fs from 'node:fs';
import path from 'node:path';
import { freePort, makeTempDir } from './setup/test-database';
import { isAlive, ServerProcess } from './utils/server-process';

/**
 * The README's `npm start` path: no DATABASE_URL, so the real entry point runs its own embedded
 * PostgreSQL in a data folder, stops it on SIGTERM and finds its data again on the next start.
 */
describe('Server with the embedded PostgreSQL (e2e, real process)', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let base: string;
  const postmasterPid = () =>
    Number(fs.readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);

  beforeAll(async () => {
    dataDir = makeTempDir('sync-lifecycle-');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    // DATABASE_URL is deliberately empty: the default path is under test, whatever the run uses.
    env = {
      DATABASE_URL: '',
      DATA_DIR: dataDir,
      PORT: String(port),
      EMBEDDED_PG_PORT: String(await freePort()),
      LOG_LEVEL: 'warn',
    };
  });
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('serves, stops cleanly on SIGTERM, keeps devices, and recovers after kill -9', async () => {
    const first = ServerProcess.start(env);
    await first.waitFor(`${base}/health`);
    expect((await fetch(`${base}/docs`)).status).toBe(200);
    expect((await fetch(`${base}/docs-json`)).status).toBe(200);
    const registered = await fetch(`${base}/api/v1/devices/register`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'survivor' }),
    });
    expect(registered.status).toBe(201);
    const { access_token: token } = (await registered.json()) as { access_token: string };
    const me = () =>
      fetch(`${base}/api/v1/devices/me`, { headers: { Authorization: `Bearer ${token}` } });

    const pgPid = postmasterPid();
    expect(isAlive(pgPid)).toBe(true);
    first.kill('SIGTERM');
    expect(await first.exit()).toEqual({ code: 0, signal: null });
    expect(isAlive(pgPid)).toBe(false);
    expect(fs.existsSync(path.join(dataDir, 'pg', 'postmaster.pid'))).toBe(false);

    // Same data folder: the device and the generated JWT secret are both still there.
    const second = ServerProcess.start(env);
    await second.waitFor(`${base}/health`);
    expect((await me()).status).toBe(200);

    // kill -9 leaves PostgreSQL orphaned and holding the folder; the next start must take over.
    const orphan = postmasterPid();
    second.kill('SIGKILL');
    await second.exit();
    expect(isAlive(orphan)).toBe(true);

    const third = ServerProcess.start(env);
    await third.waitFor(`${base}/health`);
    expect(isAlive(orphan)).toBe(false);
    expect(third.output).toMatch(/left running by an earlier run/);
    expect((await me()).status).toBe(200);
    const lastPg = postmasterPid();
    third.kill('SIGTERM');
    expect((await third.exit()).code).toBe(0);
    expect(isAlive(lastPg)).toBe(false);
  });
});
