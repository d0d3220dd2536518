import { registerAs } from '@nestjs/config';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import path from 'node:path';
import { validateConfig } from '../utils/validate-config';
import type { AppConfig, LogLevel } from './app-config.type';

const LOG_LEVELS: LogLevel[] = ['error', 'warn', 'log', 'debug', 'verbose'];

class AppEnvVariables {
  @IsIn(['development', 'production', 'test'])
  @IsOptional()
  NODE_ENV?: AppConfig['nodeEnv'];

  @IsInt()
  @Min(0)
  @Max(65535)
  @IsOptional()
  PORT?: number;

  @IsIn(LOG_LEVELS)
  @IsOptional()
  LOG_LEVEL?: LogLevel;

  @IsString()
  @IsOptional()
  DATA_DIR?: string;

  @Matches(/^\d+(b|kb|mb)$/i, { message: 'BODY_LIMIT must be a size such as 512kb or 10mb' })
  @IsOptional()
  BODY_LIMIT?: string;
}

export function loadAppConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const vars = validateConfig(env, AppEnvVariables);
  return {
    nodeEnv: vars.NODE_ENV ?? 'development',
    port: vars.PORT ?? 3000,
    apiPrefix: 'api/v1',
    logLevel: vars.LOG_LEVEL ?? 'log',
    bodyLimit: vars.BODY_LIMIT ?? '10mb',
    dataDir: path.resolve(vars.DATA_DIR ?? '.data'),
  };
}

export default registerAs<AppConfig>('app', () => loadAppConfig());
