export type SyncConfig = {
  /** Records (all tables, all arrays) one push may carry; more answers 413. */
  maxPushRecords: number;
};
