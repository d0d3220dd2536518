import { registerAs } from '@nestjs/config';
import {
  IsBooleanString,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  Min,
  MinLength,
} from 'class-validator';
import path from 'node:path';
import { validateConfig } from '../utils/validate-config';
import type { AppConfig, LogLevel } from './app-config.type';

const LOG_LEVELS: LogLevel[] = ['error', 'warn', 'log', 'debug', 'verbose'];

export class AppEnvVariables {
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

  @IsString()
  @IsOptional()
  CORS_ORIGINS?: string;

  @IsBooleanString()
  @IsOptional()
  THROTTLE_ENABLED?: string;

  @IsInt()
  @Min(1000)
  @IsOptional()
  THROTTLE_TTL_MS?: number;

  @IsInt()
  @Min(1)
  @IsOptional()
  THROTTLE_DEVICE_LIMIT?: number;

  @IsInt()
  @Min(1)
  @IsOptional()
  THROTTLE_REGISTER_LIMIT?: number;

  @Matches(/^\d+(b|kb|mb)$/i, { message: 'BODY_LIMIT must be a size such as 512kb or 10mb' })
  @IsOptional()
  BODY_LIMIT?: string;

  @MinLength(16, { message: 'METRICS_TOKEN must be at least 16 characters' })
  @IsString()
  @IsOptional()
  METRICS_TOKEN?: string;
}

/** `512kb`, `10mb`: 1024-based, as body-parser read BODY_LIMIT. */
function parseSize(size: string): number {
  const [, amount, unit] = /^(\d+)(b|kb|mb)$/i.exec(size)!;
  return (
    Number(amount) * { b: 1, kb: 1024, mb: 1024 * 1024 }[unit.toLowerCase() as 'b' | 'kb' | 'mb']
  );
}

export function loadAppConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const vars = validateConfig(env, AppEnvVariables);
  return {
    nodeEnv: vars.NODE_ENV ?? 'development',
    port: vars.PORT ?? 3000,
    apiPrefix: 'api/v1',
    logLevel: vars.LOG_LEVEL ?? 'log',
    bodyLimit: parseSize(vars.BODY_LIMIT ?? '10mb'),
    corsOrigins: (vars.CORS_ORIGINS ?? '')
      .split(',')
      .map((origin) => origin.trim())
      .filter(Boolean),
    throttle: {
      enabled: vars.THROTTLE_ENABLED !== 'false',
      ttlMs: vars.THROTTLE_TTL_MS ?? 60_000,
      deviceLimit: vars.THROTTLE_DEVICE_LIMIT ?? 600,
      credentialsLimit: vars.THROTTLE_REGISTER_LIMIT ?? 20,
    },
    dataDir: path.resolve(vars.DATA_DIR ?? '.data'),
    metricsToken: vars.METRICS_TOKEN || undefined,
  };
}

export default registerAs<AppConfig>('app', () => loadAppConfig());
