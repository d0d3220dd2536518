import { Client } from 'pg';
import { SYNC_TABLE_NAMES } from '../../src/sync/registry/sync-tables';
import { pollUntil } from './fault-kit';

/** Pushes write the registry's tables in order (parents first): this one last. */
const LAST_TABLE = SYNC_TABLE_NAMES[SYNC_TABLE_NAMES.length - 1];

/**
 * Parks chosen pushes in the middle of their transaction, deterministically: a row trigger on
 * the last table a push writes (`LAST_TABLE`) that only fires for the given devices waits on an
 * advisory lock that the gate's own session holds. So when a test sees the push parked (its
 * backend waiting in pg_locks), its records of every other table are written, uncommitted, and
 * those of the last table are not: exactly the state a crash must never leave half-applied.
 */
export class PushGate {
  private constructor(
    private readonly client: Client,
    private readonly key: number,
    private readonly name: string,
  ) {}

  /** Installs the trigger (for `accountIds` only) and closes the gate. */
  static async close(url: string, key: number, accountIds: string[]): Promise<PushGate> {
    const client = new Client({ connectionString: url });
    // The gate's session dies with a stopped database; that is expected, not a test failure.
    client.on('error', () => undefined);
    await client.connect();
    const name = `fault_gate_${key}`;
    const accounts = accountIds.map((id) => `'${id.replace(/[^0-9a-f-]/gi, '')}'`).join(', ');
    await client.query(`
      CREATE OR REPLACE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_advisory_xact_lock_shared(${key}); RETURN NEW; END $$`);
    await client.query(`DROP TRIGGER IF EXISTS ${name} ON ${LAST_TABLE}`);
    await client.query(`
      CREATE TRIGGER ${name} BEFORE INSERT ON ${LAST_TABLE}
      FOR EACH ROW WHEN (NEW.account_id IN (${accounts})) EXECUTE FUNCTION ${name}()`);
    await client.query('SELECT pg_advisory_lock($1)', [key]);
    return new PushGate(client, key, name);
  }

  /** How many backends wait at the gate. */
  async parked(): Promise<number> {
    const { rows } = await this.client.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = $1 AND NOT granted`,
      [this.key],
    );
    return Number(rows[0].n);
  }

  /** Bounded wait until `count` backends wait at the gate. */
  async waitParked(count: number, timeoutMs = 20_000): Promise<void> {
    await pollUntil(
      `${count} push(es) parked at the gate`,
      async () => (await this.parked()) >= count,
      { timeoutMs, intervalMs: 20 },
    );
  }

  /** Lets the parked pushes go on. */
  async open(): Promise<void> {
    await this.client.query('SELECT pg_advisory_unlock($1)', [this.key]);
  }

  /** Removes the trigger (when the database is up) and ends the gate's session. */
  async remove(): Promise<void> {
    try {
      await this.client.query(`DROP TRIGGER IF EXISTS ${this.name} ON ${LAST_TABLE}`);
      await this.client.query(`DROP FUNCTION IF EXISTS ${this.name}()`);
    } finally {
      await this.client.end().catch(() => undefined);
    }
  }
}

/** A plain session on the database, for looking at the app's backends from outside. */
export async function observer(url: string): Promise<Client> {
  const client = new Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/**
 * Pids of the backends of an app started with `PGAPPNAME=<appName>` (node-postgres takes its
 * `application_name` from it), so the test's own sessions never count.
 */
export async function appBackends(client: Client, appName: string): Promise<number[]> {
  const { rows } = await client.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE application_name = $1',
    [appName],
  );
  return rows.map((row) => row.pid);
}

/** Bounded wait until none of `pids` is still a backend (their sessions ended, transactions rolled back). */
export async function waitBackendsGone(
  client: Client,
  pids: number[],
  timeoutMs = 15_000,
): Promise<void> {
  await pollUntil(
    `backends ${pids.join(', ')} gone`,
    async () => {
      const { rows } = await client.query<{ n: string }>(
        'SELECT count(*) AS n FROM pg_stat_activity WHERE pid = ANY($1::int[])',
        [pids],
      );
      return Number(rows[0].n) === 0;
    },
    { timeoutMs, intervalMs: 50 },
  );
}

/**
 * Bounded wait until `count` backends of the app wait on a lock: parked at a gate, or queued
 * behind another push of the same device (its clock row is locked FOR UPDATE).
 */
export async function waitLockWaiters(
  client: Client,
  appName: string,
  count: number,
  timeoutMs = 20_000,
): Promise<void> {
  await pollUntil(
    `${count} push(es) of the app waiting on a lock`,
    async () => {
      const { rows } = await client.query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_stat_activity
         WHERE application_name = $1 AND state = 'active' AND wait_event_type = 'Lock'`,
        [appName],
      );
      return Number(rows[0].n) >= count;
    },
    { timeoutMs, intervalMs: 20 },
  );
}
