export type LogLevel = 'error' | 'warn' | 'log' | 'debug' | 'verbose';

export type AppConfig = {
  nodeEnv: 'development' | 'production' | 'test';
  port: number;
  apiPrefix: string;
  logLevel: LogLevel;
  /** Folder for local state: the embedded database and the generated development JWT secret. */
  dataDir: string;
};
