import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { freePort } from '../scripts/free-port';

export const ROOT = path.resolve(__dirname, '..');
export const MAIN_JS = path.join(ROOT, 'dist/src/main.js');

/** Env vars a user may set for the benchmark run and that are handed on to the app as they are. */
const PASSED_THROUGH = [
  'DATABASE_POOL_SIZE',
  'DATABASE_GENERIC_PLANS',
  'THROTTLE_ENABLED',
  'THROTTLE_TTL_MS',
  'THROTTLE_DEVICE_LIMIT',
  'THROTTLE_REGISTER_LIMIT',
  'DATABASE_STATEMENT_TIMEOUT_MS',
  'BODY_LIMIT',
  'SYNC_MAX_PUSH_RECORDS',
  'JWT_EXPIRES_IN',
  'APP_WORKERS',
  // e.g. --require a profiler, to profile the server under the benchmark's load.
  'NODE_OPTIONS',
];

/** A connection URL fit for logs and results.json: the password masked. */
export function redactUrl(value: string): string {
  if (!value) return value;
  const url = new URL(value);
  if (url.password) url.password = '***';
  return url.toString();
}

export const sleep = (msToWait: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, msToWait));

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * Where the app keeps its data for this run: a fresh database on the server named by
 * DATABASE_URL, or (unset) the app's own embedded PostgreSQL in a fresh temp folder.
 */
export class BenchDatabase {
  private constructor(
    readonly mode: 'external' | 'embedded',
    /** Env for the app process. */
    readonly appEnv: Record<string, string>,
    /** The app's state folder (the embedded cluster lives in `pg/` below it). */
    readonly dataDir: string,
    private readonly serverUrl: string | undefined,
    private readonly databaseName: string | undefined,
    private readonly embeddedPort: number | undefined,
  ) {}

  static async create(serverUrl: string | undefined): Promise<BenchDatabase> {
    let name: string | undefined;
    let url: URL | undefined;
    if (serverUrl) {
      name = `bench_${process.pid}_${Date.now()}`;
      await adminQuery(serverUrl, `CREATE DATABASE "${name}"`);
      url = new URL(serverUrl);
      url.pathname = `/${name}`;
    }
    const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sync-bench-'));
    // As root the embedded PostgreSQL runs as `postgres`, which must be able to enter the folder.
    fs.chmodSync(tempDir, 0o755);
    const dataDir = path.join(tempDir, 'data');
    if (url) {
      const env = { DATABASE_URL: url.toString(), DATA_DIR: dataDir };
      return new BenchDatabase('external', env, dataDir, serverUrl, name, undefined);
    }
    const port = await freePort();
    // An empty DATABASE_URL means "unset" to the app, and keeps a stray .env from setting one.
    const env = { DATABASE_URL: '', DATA_DIR: dataDir, EMBEDDED_PG_PORT: String(port) };
    return new BenchDatabase('embedded', env, dataDir, undefined, undefined, port);
  }

  /** A URL for raw SQL against the app's database; the embedded one exists once the app started. */
  sqlUrl(): string {
    if (this.mode === 'external') return this.appEnv.DATABASE_URL;
    const password = fs.readFileSync(path.join(this.dataDir, 'pg.password'), 'utf8').trim();
    return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${this.embeddedPort}/postgres`;
  }

  /** Drops the database or stops a left-over embedded cluster, then removes the temp folder. */
  async destroy(): Promise<void> {
    if (this.serverUrl && this.databaseName) {
      await adminQuery(
        this.serverUrl,
        `DROP DATABASE IF EXISTS "${this.databaseName}" WITH (FORCE)`,
      );
    }
    if (this.mode === 'embedded') await stopOrphanedPostmaster(path.join(this.dataDir, 'pg'));
    fs.rmSync(path.dirname(this.dataDir), { recursive: true, force: true });
  }
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * The app stops its embedded PostgreSQL on SIGTERM; if the app had to be killed, the postmaster
 * it started is still running on our temp folder. Stop that one process (by its pid file).
 */
async function stopOrphanedPostmaster(clusterDir: string): Promise<void> {
  const pidFile = path.join(clusterDir, 'postmaster.pid');
  if (!fs.existsSync(pidFile)) return;
  const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  if (!fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres')) return;
  process.kill(pid, 'SIGINT');
  for (let waited = 0; waited < 10_000 && isAlive(pid); waited += 50) await sleep(50);
}

/** The production build of the server as a child process. */
export class AppProcess {
  private output: string[] = [];
  private readonly exited: Promise<number | null>;
  private hasExited = false;

  private constructor(
    private readonly child: ChildProcess,
    readonly baseUrl: string,
    /** The app's settings for the record (its env without the secret). */
    readonly settings: Record<string, string>,
  ) {
    const keep = (chunk: Buffer) => {
      // Only the tail is worth showing when something goes wrong.
      this.output.push(...chunk.toString().split('\n'));
      this.output.splice(0, Math.max(0, this.output.length - 60));
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    this.exited = new Promise((resolve) =>
      child.on('exit', (code) => {
        this.hasExited = true;
        resolve(code);
      }),
    );
    // If the benchmark dies without its cleanup, do not leave the server running.
    process.on('exit', this.killOnExit);
  }

  get pid(): number {
    return this.child.pid!;
  }

  /**
   * `options.root`: another checkout to run instead of this one (its own build and
   * node_modules); `options.env`: settings for this app only, over the passed-through ones.
   */
  static async start(
    database: BenchDatabase,
    options: { root?: string; env?: Record<string, string> } = {},
  ): Promise<AppProcess> {
    const root = options.root ?? ROOT;
    const mainJs = path.join(root, path.relative(ROOT, MAIN_JS));
    if (!fs.existsSync(mainJs)) {
      throw new Error(`${mainJs} is missing: run \`npm run build\` there first.`);
    }
    const port = await freePort();
    const passed = Object.fromEntries(
      PASSED_THROUGH.filter((name) => process.env[name]).map((name) => [name, process.env[name]!]),
    );
    const settings: Record<string, string> = {
      NODE_ENV: 'production',
      LOG_LEVEL: 'warn',
      PORT: String(port),
      // The rate limits (20 registrations a minute per IP, 600 requests a minute per device)
      // would refuse the benchmark's own set-up and its pull loops. Raised rather than turned
      // off, so that every request still pays for the throttler as it does in production.
      THROTTLE_REGISTER_LIMIT: '1000000',
      THROTTLE_DEVICE_LIMIT: '1000000',
      ...passed,
      ...options.env,
      ...database.appEnv,
    };
    const child = spawn(process.execPath, [mainJs], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? os.homedir(),
        // Production refuses to start without a secret of at least 32 characters.
        JWT_SECRET: randomBytes(36).toString('base64'),
        ...settings,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const app = new AppProcess(child, `http://127.0.0.1:${port}`, {
      ...settings,
      DATABASE_URL: redactUrl(settings.DATABASE_URL),
    });
    try {
      await app.waitHealthy();
    } catch (error) {
      await app.stop();
      throw error;
    }
    return app;
  }

  /** Migrations run at start-up; /health answers 200 once the database answers. */
  private async waitHealthy(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !this.hasExited) {
      const ok = await fetch(`${this.baseUrl}/health`).then(
        (response) => response.ok,
        () => false,
      );
      if (ok) return;
      await sleep(100);
    }
    throw new Error(
      `The app did not become healthy (${this.hasExited ? 'it exited' : 'timed out'}). Its output:\n` +
        this.recentOutput(),
    );
  }

  recentOutput(): string {
    return this.output.join('\n').trim() || '(none)';
  }

  /** SIGTERM, then wait for the graceful shutdown; SIGKILL if it does not come. */
  async stop(timeoutMs = 20_000): Promise<number | null> {
    process.removeListener('exit', this.killOnExit);
    if (this.hasExited) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  private readonly killOnExit = () => {
    if (!this.hasExited) this.child.kill('SIGTERM');
  };
}
