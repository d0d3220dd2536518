import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';

const logger = new Logger('Notifications');

/** PostgreSQL LISTEN/NOTIFY channels between the app's instances (SyncEventsService listens). */
export const CHANNELS = {
  /** A push committed: `{ account, timestamp }` (the account's new clock). */
  changes: 'sync_changes',
  /** A device was revoked: its id (JSON). */
  revoked: 'device_revoked',
} as const;

/**
 * NOTIFY in a transaction of its own, sent after the change it announces has committed: NOTIFY
 * inside a push would hold PostgreSQL's notification queue lock across the push's commit and
 * serialise every pushing transaction. It does not wait for the WAL flush: an announcement lost
 * in a crash costs a client one sync later. Resolves once sent; never rejects (the caller's
 * work is done whatever happens here): a failure is logged.
 */
export async function notify(
  dataSource: DataSource,
  channel: (typeof CHANNELS)[keyof typeof CHANNELS],
  payload: unknown,
): Promise<void> {
  try {
    await dataSource.query(
      `SELECT set_config('synchronous_commit', 'off', true), pg_notify($1, $2)`,
      [channel, JSON.stringify(payload)],
    );
  } catch (error) {
    logger.warn(`could not announce on ${channel}: ${(error as Error).message}`);
  }
}
