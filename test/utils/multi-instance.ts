import fs from 'node:fs';
import { Client } from 'pg';
import { freePort, makeTempDir } from '../setup/test-database';
import { ServerProcess } from './server-process';
import { ChangesInput, changes } from './sync-records';
import { PullBody } from './sync-api';
import { startListeningApp } from './watermelon';

/** One running copy of the app, reachable over real HTTP. */
export type Instance = { name: string; baseUrl: string; close(): Promise<void> };

export type StartInstances = (names: string[]) => Promise<Instance[]>;

/**
 * Several AppModules in this process, each listening on its own port with its own TypeORM pool:
 * they share nothing but the database.
 */
export const startInProcessInstances: StartInstances = async (names) => {
  const instances: Instance[] = [];
  try {
    // One after the other: several Nest apps compiling at once in one process gain nothing.
    for (const name of names) {
      const app = await startListeningApp();
      instances.push({ name, baseUrl: app.baseUrl, close: () => app.close() });
    }
    return instances;
  } catch (error) {
    await Promise.allSettled(instances.map((instance) => instance.close()));
    throw error;
  }
};

/**
 * The real entry point (src/main.ts), once per name, as separate processes started together on
 * the run's database (they also run the start-up migrations check at the same time). Closing one
 * sends SIGTERM and requires a clean exit (code 0).
 */
export const startProcessInstances: StartInstances = async (names) => {
  const dataDir = makeTempDir('sync-multi-instance-');
  const servers = await Promise.all(
    names.map(async (name) => {
      const port = await freePort();
      const server = ServerProcess.start({
        DATABASE_URL: process.env.DATABASE_URL,
        JWT_SECRET: process.env.JWT_SECRET,
        JWT_EXPIRES_IN: '1h',
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        // As for the in-process apps (test/setup/env.ts): rate limits are tested elsewhere.
        THROTTLE_DEVICE_LIMIT: process.env.THROTTLE_DEVICE_LIMIT,
        THROTTLE_REGISTER_LIMIT: process.env.THROTTLE_REGISTER_LIMIT,
        PORT: String(port),
        DATA_DIR: dataDir,
      });
      return { name, server, baseUrl: `http://127.0.0.1:${port}` };
    }),
  );
  let remaining = servers.length;
  const close = async (server: ServerProcess) => {
    try {
      if (server.child.exitCode === null && server.child.signalCode === null) {
        server.kill('SIGTERM');
      }
      const { code, signal } = await server.exit();
      if (code !== 0) {
        throw new Error(`exited with code ${code} (${signal}) after SIGTERM:\n${server.output}`);
      }
    } finally {
      if (--remaining === 0) fs.rmSync(dataDir, { recursive: true, force: true });
    }
  };
  try {
    await Promise.all(servers.map(({ server, baseUrl }) => server.waitFor(`${baseUrl}/health`)));
  } catch (error) {
    await Promise.allSettled(servers.map(({ server }) => close(server)));
    throw error;
  }
  return servers.map(({ name, server, baseUrl }) => ({
    name,
    baseUrl,
    close: () => close(server),
  }));
};

export type RegisteredDevice = { deviceId: string; accountId: string; token: string };

export async function registerDeviceAt(
  instance: Instance,
  name = 'multi-instance phone',
): Promise<RegisteredDevice> {
  const response = await fetch(`${instance.baseUrl}/api/v1/devices/register`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name, platform: 'test' }),
  });
  if (response.status !== 201) {
    throw new Error(`register on ${instance.name} answered ${response.status}`);
  }
  const body = (await response.json()) as {
    device_id: string;
    account_id: string;
    access_token: string;
  };
  return { deviceId: body.device_id, accountId: body.account_id, token: body.access_token };
}

export type ApiResponse = { status: number; body: Record<string, unknown> };

/** The two sync endpoints of one instance for one device, over real HTTP. */
export function syncApiAt(instance: Instance, device: RegisteredDevice) {
  const call = async (path: string, init: RequestInit = {}): Promise<ApiResponse> => {
    const response = await fetch(`${instance.baseUrl}/api/v1/sync${path}`, {
      ...init,
      headers: {
        ...(init.headers as Record<string, string>),
        Authorization: `Bearer ${device.token}`,
      },
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const pull = (lastPulledAt?: number) =>
    call(`/pull${lastPulledAt === undefined ? '' : `?last_pulled_at=${lastPulledAt}`}`);
  const push = (input: ChangesInput, lastPulledAt: number) =>
    call('/push', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ changes: changes(input), last_pulled_at: lastPulledAt }),
    });
  return {
    instance,
    pull,
    push,
    async pullOk(lastPulledAt?: number): Promise<PullBody> {
      const response = await pull(lastPulledAt);
      if (response.status !== 200) {
        throw new Error(
          `pull on ${instance.name} answered ${response.status}: ${JSON.stringify(response.body)}`,
        );
      }
      return response.body as unknown as PullBody;
    },
    async pushOk(input: ChangesInput, lastPulledAt: number): Promise<void> {
      const response = await push(input, lastPulledAt);
      if (response.status !== 200) {
        throw new Error(
          `push on ${instance.name} answered ${response.status}: ${JSON.stringify(response.body)}`,
        );
      }
    },
  };
}

export type SyncApiAt = ReturnType<typeof syncApiAt>;

/** The origin a client is configured with; only roundRobinFetch knows where requests really go. */
export const ROUTED_ORIGIN = 'http://sync.multi-instance.invalid';

export type Exchange = { instance: string; kind: 'pull' | 'push'; status: number };

/**
 * A fetch for client/sync.ts that sends each request to the next instance in turn (the first to
 * `instances[start % n]`), the way a round-robin load balancer would, and records the exchange.
 */
export function roundRobinFetch(
  instances: Instance[],
  exchanges: Exchange[],
  start = 0,
): typeof fetch {
  let next = start;
  return async (input, init) => {
    if (typeof input !== 'string' && !(input instanceof URL)) {
      throw new Error('roundRobinFetch only routes string and URL requests');
    }
    const url = new URL(input);
    if (url.origin !== ROUTED_ORIGIN) throw new Error(`unexpected origin in ${url.href}`);
    const instance = instances[next++ % instances.length];
    const response = await fetch(`${instance.baseUrl}${url.pathname}${url.search}`, init);
    const kind = url.pathname.endsWith('/sync/push') ? 'push' : 'pull';
    exchanges.push({ instance: instance.name, kind, status: response.status });
    return response;
  };
}

let gateCount = 0;

/**
 * Holds the COMMIT of one device's pushes until released, through any app instance: a deferred
 * constraint trigger on `games` (for that device only) takes a transaction-level advisory lock
 * that this test's session holds. So a push that writes a game has written and stamped all its
 * rows, and holds the device row lock, when it parks. A deferred trigger runs only when its
 * transaction commits: at an explicit COMMIT, or at the end of a push that is a single statement
 * (its own transaction). Everything observable from pg_stat_activity and pg_locks of this
 * database only; no sleeps.
 */
export class CommitGate {
  private constructor(
    private readonly sql: Client,
    readonly key: number,
    private readonly name: string,
  ) {}

  static async create(sql: Client, accountId: string): Promise<CommitGate> {
    const n = ++gateCount;
    const gate = new CommitGate(sql, 737_000 + n, `multi_instance_gate_${n}`);
    await sql.query(`
      CREATE FUNCTION ${gate.name}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_advisory_xact_lock(${gate.key}); RETURN NULL; END $$`);
    await sql.query(`
      CREATE CONSTRAINT TRIGGER ${gate.name} AFTER INSERT OR UPDATE ON games
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
      WHEN (NEW.account_id = '${accountId}') EXECUTE FUNCTION ${gate.name}()`);
    return gate;
  }

  async hold(): Promise<void> {
    await this.sql.query('SELECT pg_advisory_lock($1)', [this.key]);
  }

  async release(): Promise<void> {
    await this.sql.query('SELECT pg_advisory_unlock($1)', [this.key]);
  }

  /** Releases (if held) and removes the trigger; safe to call twice. */
  async drop(): Promise<void> {
    await this.sql.query('SELECT pg_advisory_unlock_all()');
    await this.sql.query(`DROP TRIGGER IF EXISTS ${this.name} ON games`);
    await this.sql.query(`DROP FUNCTION IF EXISTS ${this.name}()`);
  }

  /**
   * Backends of this database: `parked` = transactions waiting on this gate (at commit); `blocked`
   * = backends waiting on any other lock (e.g. a push queued behind the parked one, whatever lock
   * the server uses to serialise a device's pushes).
   */
  async waiting(): Promise<{ parked: number; blocked: number }> {
    const { rows } = await this.sql.query<{ parked: number; blocked: number }>(
      `WITH waiting AS (
         SELECT a.pid, EXISTS (
                  SELECT 1 FROM pg_locks l
                  WHERE l.pid = a.pid AND NOT l.granted AND l.locktype = 'advisory'
                    AND l.classid = 0 AND l.objid = $1 AND l.objsubid = 1) AS on_gate
         FROM pg_stat_activity a
         WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
           AND a.wait_event_type = 'Lock')
       SELECT count(*) FILTER (WHERE on_gate)::int AS parked,
              count(*) FILTER (WHERE NOT on_gate)::int AS blocked
       FROM waiting`,
      [this.key],
    );
    return rows[0];
  }

  /**
   * Polls (yielding to the event loop, never sleeping) until exactly this many wait. Fails at
   * once if one of `inFlight` (the requests expected to wait) answers in the meantime.
   */
  async waitUntil(
    expected: { parked: number; blocked: number },
    inFlight: Array<Promise<{ status: number; body: unknown }>> = [],
    timeoutMs = 20_000,
  ): Promise<void> {
    let answered: string | undefined;
    for (const request of inFlight) {
      void request.then(
        ({ status, body }) => (answered ??= `${status} ${JSON.stringify(body)}`),
        (error: unknown) => (answered ??= String(error)),
      );
    }
    let seen = { parked: -1, blocked: -1 };
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline;) {
      seen = await this.waiting();
      if (answered !== undefined) {
        throw new Error(`a request answered instead of waiting at the commit gate: ${answered}`);
      }
      if (seen.parked === expected.parked && seen.blocked === expected.blocked) return;
      await new Promise((resolve) => setImmediate(resolve));
    }
    throw new Error(
      `waited for ${JSON.stringify(expected)} at the commit gate, last saw ${JSON.stringify(seen)}`,
    );
  }
}
