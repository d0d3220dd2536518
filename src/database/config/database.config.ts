import { registerAs } from '@nestjs/config';
import { IsBooleanString, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import path from 'node:path';
import { loadAppConfig } from '../../config/app.config';
import { validateConfig } from '../../utils/validate-config';
import { DatabaseConfig } from './database-config.type';

export class DatabaseEnvVariables {
  @IsString()
  @Matches(/^postgres(ql)?:\/\/\S+$/, {
    message: 'DATABASE_URL must be a postgres:// or postgresql:// connection string',
  })
  @IsOptional()
  DATABASE_URL?: string;

  @IsBooleanString()
  @IsOptional()
  DATABASE_RUN_MIGRATIONS?: string;

  @IsInt()
  @Min(1)
  @Max(500)
  @IsOptional()
  DATABASE_POOL_SIZE?: number;

  @IsInt()
  @Min(100)
  @IsOptional()
  DATABASE_STATEMENT_TIMEOUT_MS?: number;

  @IsInt()
  @Min(100)
  @IsOptional()
  DATABASE_CONNECT_TIMEOUT_MS?: number;

  @IsInt()
  @Min(1)
  @Max(65535)
  @IsOptional()
  EMBEDDED_PG_PORT?: number;
}

export function loadDatabaseConfig(env: NodeJS.ProcessEnv = process.env): DatabaseConfig {
  // An empty DATABASE_URL (e.g. `DATABASE_URL=` in .env) means "unset", not "invalid".
  const vars = validateConfig(
    { ...env, DATABASE_URL: env.DATABASE_URL || undefined },
    DatabaseEnvVariables,
  );
  return {
    url: vars.DATABASE_URL,
    runMigrations: vars.DATABASE_RUN_MIGRATIONS !== 'false',
    poolSize: vars.DATABASE_POOL_SIZE ?? 10,
    statementTimeoutMs: vars.DATABASE_STATEMENT_TIMEOUT_MS ?? 30_000,
    connectTimeoutMs: vars.DATABASE_CONNECT_TIMEOUT_MS ?? 5_000,
    embedded: {
      port: vars.EMBEDDED_PG_PORT ?? 54329,
      dataDir: path.join(loadAppConfig(env).dataDir, 'pg'),
    },
  };
}

export default registerAs<DatabaseConfig>('database', () => loadDatabaseConfig());
