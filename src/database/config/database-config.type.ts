export type DatabaseConfig = {
  /** Connection string of an external PostgreSQL; undefined means "start the embedded one". */
  url?: string;
  runMigrations: boolean;
  poolSize: number;
  /** Per-statement limit, so a stuck query answers an error instead of hanging a request. */
  statementTimeoutMs: number;
  connectTimeoutMs: number;
  /**
   * Generic plans for the prepared sync statements once the tables have statistics (see
   * src/sync/sql/plan-mode.service.ts); false keeps PostgreSQL's default, a plan per call.
   */
  genericPlans: boolean;
  embedded: {
    port: number;
    dataDir: string;
  };
};
