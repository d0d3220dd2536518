export type SyncConfig = {
  /** Records (all tables, all arrays) one push may carry; more answers 413. */
  maxPushRecords: number;
  /** Tombstones older than this are purged (SYNC_TOMBSTONE_RETENTION_MS). */
  tombstoneRetentionMs: number;
  /** How often an instance tries to purge; 0: never on its own (`npm run purge` only). */
  purgeIntervalMs: number;
  /** Open event streams one device may hold on one instance; more answers 429. */
  eventsPerDevice: number;
  /** How often an event stream gets a `: ping` comment (keeps proxies from closing it). */
  eventsPingMs: number;
};
