import 'dotenv/config';
import path from 'node:path';
import { DataSource, DataSourceOptions } from 'typeorm';
import { loadDatabaseConfig } from './src/database/config/database.config';
import { SnakeNamingStrategy } from './src/database/snake-naming.strategy';

/**
 * The one TypeORM definition, shared by the app (AppModule) and the TypeORM CLI. Globs are built
 * from this file's folder so they match `.ts` under ts-node/jest and `.js` in `dist/`.
 */
export const dataSourceOptions = {
  type: 'postgres',
  url: process.env.DATABASE_URL,
  synchronize: false,
  migrationsRun: false,
  entities: [path.join(__dirname, 'src/**/*.entity.{ts,js}')],
  migrations: [path.join(__dirname, 'migrations/*.{ts,js}')],
  migrationsTableName: 'typeorm_migrations',
  namingStrategy: new SnakeNamingStrategy(),
} satisfies DataSourceOptions;

/** Pool and timeout settings from the validated config (the CLI gets the same ones). */
export function buildDataSourceOptions(url: string): DataSourceOptions {
  const config = loadDatabaseConfig();
  return {
    ...dataSourceOptions,
    url,
    poolSize: config.poolSize,
    connectTimeoutMS: config.connectTimeoutMs,
    extra: {
      statement_timeout: config.statementTimeoutMs,
      idle_in_transaction_session_timeout: config.statementTimeoutMs,
      // Every sync statement is an index scan of one device's rows. On a big database the
      // planner would still pick parallel plans for the pull, forking worker processes on every
      // request (measured: p50 of an incremental pull 7 ms -> 20 ms at 1M rows, the forks'
      // kernel time eating a core).
      options: '-c max_parallel_workers_per_gather=0',
    },
  };
}

export default new DataSource(buildDataSourceOptions(process.env.DATABASE_URL ?? ''));
