import type { Database } from '@nozbe/watermelondb';
import { apiRequest, ApiOptions, SyncHttpError } from './http';
import {
  synchronize,
  type SyncLog,
  type SyncPullArgs,
  type SyncPullResult,
  type SyncPushArgs,
} from '@nozbe/watermelondb/sync';

export { SyncHttpError } from './http';

export type SyncOptions = ApiOptions & {
  /** The device's bearer token; asked for at every attempt, so a refreshed token is picked up. */
  getToken: () => string | Promise<string>;
  /**
   * Called on a 401 (token expired, device revoked). Return a new token to retry once with it;
   * return nothing to give up (the 401 `SyncHttpError` is thrown). AccountClient.syncOptions()
   * wires both to the device's stored session.
   */
  onUnauthorized?: (
    error: SyncHttpError,
  ) => string | null | undefined | Promise<string | null | undefined>;
};

/** The sync currently running for each database (see syncDatabase). */
const running = new WeakMap<Database, Promise<SyncLog>>();

/**
 * Pulls then pushes `database` against the sync server and resolves with the WatermelonDB log.
 *
 * Concurrency: WatermelonDB aborts a synchronize() that overlaps another one on the same database,
 * so a call made while a sync of this database is running does not start a second one: it returns
 * the SAME promise as the running sync. Local changes made after that sync collected them are
 * left for the next call.
 *
 * Retries: a 409 (a record changed on the server since our last pull) retries the whole sync
 * once, as the WatermelonDB docs advise: the new pull merges the server's version and the push is
 * tried again. A 401 asks `onUnauthorized` for a new token and retries once with it.
 */
export function syncDatabase(database: Database, options: SyncOptions): Promise<SyncLog> {
  const current = running.get(database);
  if (current) return current;
  const run: Promise<SyncLog> = syncWithRetries(database, options).finally(() => {
    if (running.get(database) === run) running.delete(database);
  });
  running.set(database, run);
  return run;
}

async function syncWithRetries(database: Database, options: SyncOptions): Promise<SyncLog> {
  let conflictRetried = false;
  let tokenOverride: string | undefined;
  for (;;) {
    const log: SyncLog = {}; // one per attempt: the one returned describes the sync that worked
    try {
      const token = tokenOverride ?? (await options.getToken());
      await synchronize({
        database,
        pullChanges: (args) => pull(options, token, args),
        pushChanges: (args) => push(options, token, args),
        // The server sends every live record in `updated` (README, "Pull").
        sendCreatedAsUpdated: true,
        // Schema version 1 is the first synced one; later migrations make migration syncs.
        migrationsEnabledAtVersion: 1,
        log,
      });
      return log;
    } catch (error) {
      if (!(error instanceof SyncHttpError)) throw error;
      if (error.status === 409 && !conflictRetried) {
        conflictRetried = true;
        continue;
      }
      if (error.status === 401 && tokenOverride === undefined && options.onUnauthorized) {
        const newToken = await options.onUnauthorized(error);
        if (newToken) {
          tokenOverride = newToken;
          continue;
        }
      }
      throw error;
    }
  }
}

async function pull(
  options: SyncOptions,
  token: string,
  { lastPulledAt, schemaVersion, migration }: SyncPullArgs,
): Promise<SyncPullResult> {
  // Absent means "first sync": WatermelonDB passes null before the first pull.
  const since = lastPulledAt ? `last_pulled_at=${lastPulledAt}&` : '';
  // `migration` is null unless a migration sync is due; the server takes the text `null` too.
  const path =
    `/api/v1/sync/pull?${since}schema_version=${schemaVersion}` +
    `&migration=${encodeURIComponent(JSON.stringify(migration ?? null))}`;
  return (await apiRequest(options, 'Sync pull', path, { token })) as SyncPullResult;
}

async function push(
  options: SyncOptions,
  token: string,
  { changes, lastPulledAt }: SyncPushArgs,
): Promise<void> {
  await apiRequest(options, 'Sync push', '/api/v1/sync/push', {
    method: 'POST',
    token,
    json: { changes, last_pulled_at: lastPulledAt },
  });
}
