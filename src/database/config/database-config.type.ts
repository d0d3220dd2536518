export type DatabaseConfig = {
  /** Connection string of an external PostgreSQL; undefined means "start the embedded one". */
  url?: string;
  runMigrations: boolean;
  poolSize: number;
  /** Per-statement limit, so a stuck query answers an error instead of hanging a request. */
  statementTimeoutMs: number;
  connectTimeoutMs: number;
  embedded: {
    port: number;
    dataDir: string;
  };
};
