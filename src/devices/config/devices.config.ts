import { registerAs } from '@nestjs/config';
import { IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { loadAppConfig } from '../../config/app.config';
import { validateConfig } from '../../utils/validate-config';
import { DevicesConfig } from './devices-config.type';

const MIN_SECRET_LENGTH = 32;
const DURATION = /^(\d+)([smhd]?)$/;
const UNIT_SECONDS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86400 };

export class DevicesEnvVariables {
  @IsString()
  @IsOptional()
  JWT_SECRET?: string;

  @Matches(DURATION, {
    message: 'JWT_EXPIRES_IN must be seconds or a number with s, m, h or d (e.g. 3600, 12h, 30d)',
  })
  @IsOptional()
  JWT_EXPIRES_IN?: string;

  @IsInt()
  @Min(1)
  @Max(36500)
  @IsOptional()
  SESSION_IDLE_DAYS?: number;
}

function toSeconds(duration: string): number {
  const [, amount, unit] = DURATION.exec(duration)!;
  const seconds = Number(amount) * UNIT_SECONDS[unit];
  if (seconds <= 0) throw new Error('Invalid configuration:\n  JWT_EXPIRES_IN: must be > 0');
  return seconds;
}

/**
 * In development an unset secret is generated once and kept in the data folder, so tokens
 * survive restarts; production refuses to start without a strong one.
 */
function resolveSecret(secret: string | undefined, nodeEnv: string, dataDir: string): string {
  if (secret !== undefined && secret.length >= MIN_SECRET_LENGTH) return secret;
  if (nodeEnv === 'production') {
    throw new Error(
      `Invalid configuration:\n  JWT_SECRET: ${secret ? 'is too short' : 'is missing'}; ` +
        `production needs at least ${MIN_SECRET_LENGTH} characters (e.g. \`openssl rand -base64 48\`)`,
    );
  }
  if (secret !== undefined) return secret;
  const file = path.join(dataDir, 'jwt-secret');
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  fs.mkdirSync(dataDir, { recursive: true });
  const generated = randomBytes(48).toString('base64');
  fs.writeFileSync(file, generated, { mode: 0o600 });
  return generated;
}

export function loadDevicesConfig(env: NodeJS.ProcessEnv = process.env): DevicesConfig {
  const vars = validateConfig(env, DevicesEnvVariables);
  const app = loadAppConfig(env);
  return {
    jwtSecret: resolveSecret(vars.JWT_SECRET || undefined, app.nodeEnv, app.dataDir),
    jwtExpiresIn: toSeconds(vars.JWT_EXPIRES_IN ?? '1h'),
    sessionIdleDays: vars.SESSION_IDLE_DAYS ?? 365,
  };
}

export default registerAs<DevicesConfig>('devices', () => loadDevicesConfig());
