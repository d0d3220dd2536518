import { spawn } from 'node:child_process';
import path from 'node:path';
import { Client } from 'pg';
import { freePort } from './setup/test-database';
import { changes, game } from './utils/sync-records';
import { ServerProcess } from './utils/server-process';
import { TcpProxy } from './utils/tcp-proxy';

type LogLine = Record<string, unknown> & {
  level?: number;
  msg?: string;
  request_id?: string;
  device_id?: string;
};

/** The real entry point at `logLevel` on the run's database, and a device registered on it. */
async function startWithDevice(logLevel: string, databaseUrl = process.env.DATABASE_URL) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = ServerProcess.start({
    DATABASE_URL: databaseUrl,
    PORT: String(port),
    LOG_LEVEL: logLevel,
    JWT_SECRET: process.env.JWT_SECRET,
    DATA_DIR: '/nonexistent-data-dir-not-needed',
  });
  try {
    await server.waitFor(`${base}/health`);
    const registered = await fetch(`${base}/api/v1/devices/register`, { method: 'POST' });
    const {
      device_id: deviceId,
      access_token: token,
      refresh_token: refreshToken,
    } = (await registered.json()) as {
      device_id: string;
      access_token: string;
      refresh_token: string;
    };
    return { server, base, deviceId, token, refreshToken };
  } catch (error) {
    server.kill('SIGKILL');
    throw error;
  }
}

/** Every row of every table of the run's database, as text. */
async function databaseText(): Promise<string> {
  const client = new Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    const { rows: tables } = await client.query<{ name: string }>(
      `SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()`,
    );
    let text = '';
    for (const { name } of tables) {
      const { rows } = await client.query<{ row: string }>(
        `SELECT row_to_json(t)::text AS row FROM "${name}" AS t`,
      );
      text += rows.map((row) => row.row).join('\n');
    }
    return text;
  } finally {
    await client.end();
  }
}

/** Stops the server as an operator would (SIGTERM, exit 0) and parses its JSON log lines. */
async function stopAndReadLines(server: ServerProcess): Promise<LogLine[]> {
  server.kill('SIGTERM');
  expect((await server.exit()).code).toBe(0);
  return server.output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}

/** The real entry point's stdout: JSON lines with request ids and sync counts, and no secrets. */
describe('Structured logs (e2e, real process)', () => {
  it('logs each request and each sync with ids, counts and durations, but no token or record content', async () => {
    const { server, base, deviceId, token, refreshToken } = await startWithDevice('log');
    try {
      const auth = { Authorization: `Bearer ${token}` };

      const pulled = await fetch(`${base}/api/v1/sync/pull`, {
        headers: { ...auth, 'X-Request-Id': 'qa-trace-1' },
      });
      expect(pulled.headers.get('x-request-id')).toBe('qa-trace-1');
      const { timestamp } = (await pulled.json()) as { timestamp: number };
      const secretGame = game({ name: 'SECRET-RECORD-CONTENT' });
      const pushed = await fetch(`${base}/api/v1/sync/push`, {
        method: 'POST',
        headers: { ...auth, 'Content-Type': 'application/json' },
        body: JSON.stringify({
          changes: changes({ games: { created: [secretGame, game()] } }),
          last_pulled_at: timestamp,
        }),
      });
      expect(pushed.status).toBe(200);
      const pushId = pushed.headers.get('x-request-id');
      expect(pushId).toMatch(/^[0-9a-f-]{36}$/);

      // Codes and the tokens they bring: used, refused (403), and never written to the log.
      const post = async (path: string, body?: unknown, token = '') => {
        const response = await fetch(`${base}/api/v1${path}`, {
          method: 'POST',
          headers: {
            ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
            Authorization: `Bearer ${token}`,
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        return { status: response.status, body: (await response.json()) as Record<string, string> };
      };
      const pairing = (await post('/devices/pairing-codes', undefined, token)).body.code;
      const recovery = (await post('/account/recovery-code', undefined, token)).body.recovery_code;
      expect([pairing, recovery]).toEqual([expect.any(String), expect.any(String)]);
      const joined = await post('/devices/register', { pairing_code: pairing });
      const restored = await post('/devices/register', { recovery_code: recovery });
      expect([joined.status, restored.status]).toEqual([201, 201]);
      const wrongCode = 'WXYZ-WXYZ-WXYZ';
      expect((await post('/devices/register', { pairing_code: wrongCode })).status).toBe(403);
      const exchanged = await post('/devices/token', { refresh_token: refreshToken });
      expect(exchanged.status).toBe(200);
      expect((await post('/devices/token', { refresh_token: 'not-a-token' })).status).toBe(401);

      const lines = await stopAndReadLines(server);
      const requestLine = (id: string) =>
        lines.find((l) => l.request_id === id && l.msg === 'request completed');
      expect(requestLine('qa-trace-1')).toMatchObject({
        level: 30,
        device_id: deviceId,
        method: 'GET',
        path: '/api/v1/sync/pull',
        status: 200,
      });
      expect(requestLine(pushId!)).toMatchObject({
        device_id: deviceId,
        method: 'POST',
        path: '/api/v1/sync/push',
        status: 200,
        duration_ms: expect.any(Number),
      });
      expect(lines).toContainEqual(
        expect.objectContaining({
          sync: 'pull',
          device_id: deviceId,
          records: 0,
          duration_ms: expect.any(Number),
          request_id: 'qa-trace-1',
        }),
      );
      expect(lines).toContainEqual(
        expect.objectContaining({
          sync: 'push',
          device_id: deviceId,
          records: 2,
          request_id: pushId,
        }),
      );

      expect(server.output).not.toContain(token);
      expect(server.output).not.toContain(token.split('.')[2]);
      // Neither the log nor any table of the database holds a secret in the clear.
      const database = await databaseText();
      const codes = [pairing, recovery, wrongCode].flatMap((code) => [
        code,
        code.replace(/-/g, ''),
      ]);
      const tokens = [
        refreshToken,
        ...[joined, restored, exchanged].map(({ body }) => body.refresh_token),
      ];
      const signatures = [
        token,
        ...[joined, restored, exchanged].map(({ body }) => body.access_token),
      ].map((jwt) => jwt.split('.')[2]);
      for (const secret of [...codes, ...tokens, ...signatures]) {
        expect(server.output).not.toContain(secret);
        expect(database).not.toContain(secret);
        // Nor as raw bytes in a bytea column (shown in hex).
        expect(database).not.toContain(Buffer.from(secret).toString('hex'));
      }
      expect(server.output).not.toContain('SECRET-RECORD-CONTENT');
      expect(server.output).not.toContain('last_pulled_at');
    } finally {
      server.kill('SIGKILL');
    }
  });

  it('at LOG_LEVEL=warn logs refused requests, with their device when known, and no successful ones', async () => {
    const { server, base, deviceId, token } = await startWithDevice('warn');
    try {
      const pull = (id: string, authorization: string, query = '') =>
        fetch(`${base}/api/v1/sync/pull${query}`, {
          headers: { Authorization: authorization, 'X-Request-Id': id },
        });
      expect((await pull('ok-1', `Bearer ${token}`)).status).toBe(200);
      expect((await pull('no-token-1', 'Bearer nonsense')).status).toBe(401);
      expect((await pull('bad-query-1', `Bearer ${token}`, '?last_pulled_at=-5')).status).toBe(400);

      const requestLines = (await stopAndReadLines(server)).filter(
        (line) => line.msg === 'request completed',
      );
      expect(requestLines.map((line) => line.request_id).sort()).toEqual([
        'bad-query-1',
        'no-token-1',
      ]);
      expect(requestLines.find((line) => line.request_id === 'no-token-1')).toMatchObject({
        level: 40,
        status: 401,
      });
      expect(requestLines.find((line) => line.request_id === 'no-token-1')).not.toHaveProperty(
        'device_id',
      );
      expect(requestLines.find((line) => line.request_id === 'bad-query-1')).toMatchObject({
        level: 40,
        device_id: deviceId,
        // The path only: a query string may hold anything.
        path: '/api/v1/sync/pull',
        status: 400,
      });
    } finally {
      server.kill('SIGKILL');
    }
  });

  it('at LOG_LEVEL=error logs a request that failed on the server (503: the database is away)', async () => {
    // The server reaches PostgreSQL through a proxy the test can take away.
    const proxied = await TcpProxy.forUrl(process.env.DATABASE_URL!);
    const { server, base, token } = await startWithDevice('error', proxied.url);
    try {
      const pull = (id: string) =>
        fetch(`${base}/api/v1/sync/pull`, {
          headers: { Authorization: `Bearer ${token}`, 'X-Request-Id': id },
        });
      expect((await pull('served-1')).status).toBe(200);
      await proxied.proxy.stop();
      const failed = await pull('db-away-1');
      expect(failed.status).toBe(503);

      const requestLines = (await stopAndReadLines(server)).filter(
        (line) => line.msg === 'request completed',
      );
      expect(requestLines).toEqual([
        expect.objectContaining({
          level: 50,
          request_id: 'db-away-1',
          method: 'GET',
          path: '/api/v1/sync/pull',
          status: 503,
        }),
      ]);
    } finally {
      server.kill('SIGKILL');
      await proxied.proxy.stop();
    }
  });

  it('writes lines for a person in development at a terminal, JSON anywhere else', async () => {
    const port = await freePort();
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'development',
      DATABASE_URL: process.env.DATABASE_URL,
      PORT: String(port),
      JWT_SECRET: process.env.JWT_SECRET,
      DATA_DIR: '/nonexistent-data-dir-not-needed',
    };
    // `script` runs the server on a pseudo-terminal, as a developer's shell does.
    const command = `${process.execPath} -r ts-node/register/transpile-only src/main.ts`;
    const onTerminal = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd: path.resolve(__dirname, '..'),
      env,
      // Its own process group, so the server under it goes with it.
      detached: true,
    });
    let output = '';
    onTerminal.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      for (const deadline = Date.now() + 45_000; !/Listening on http/.test(output);) {
        if (Date.now() > deadline) throw new Error(`no start-up line:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      // Without the colour codes (ESC [ ... m).
      const plain = output.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '');
      expect(plain).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: Bootstrap: Listening on http/m);
      expect(plain).not.toMatch(/^\{"level"/m);
    } finally {
      process.kill(-onTerminal.pid!, 'SIGKILL');
    }

    // The same development settings with stdout going to a pipe: JSON lines.
    const pipedPort = await freePort();
    const piped = ServerProcess.start({ ...env, PORT: String(pipedPort) });
    try {
      await piped.waitFor(`http://127.0.0.1:${pipedPort}/health`);
    } finally {
      piped.kill('SIGTERM');
      await piped.exit();
    }
    const lines = piped.output.split('\n').filter((line) => line.trim());
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) expect(() => JSON.parse(line) as unknown).not.toThrow();
  });
});
