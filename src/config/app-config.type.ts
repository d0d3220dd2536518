export type LogLevel = 'error' | 'warn' | 'log' | 'debug' | 'verbose';

export type AppConfig = {
  nodeEnv: 'development' | 'production' | 'test';
  port: number;
  apiPrefix: string;
  logLevel: LogLevel;
  /** Largest request body, in bytes. */
  bodyLimit: number;
  /** Allowed browser origins (CORS); empty: CORS off. `*` allows any origin. */
  corsOrigins: string[];
  throttle: {
    enabled: boolean;
    ttlMs: number;
    /** Requests per device per window on authenticated routes. */
    deviceLimit: number;
    /**
     * Credential requests per window: registrations per client IP, pairing and recovery codes
     * per device.
     */
    credentialsLimit: number;
  };
  /** Bearer token of GET /metrics; undefined: no metrics served. */
  metricsToken?: string;
  /** Folder for local state: the embedded database and the generated development JWT secret. */
  dataDir: string;
};
