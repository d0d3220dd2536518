import { registerAs } from '@nestjs/config';
import { IsInt, IsOptional, Max, Min } from 'class-validator';
import { validateConfig } from '../../utils/validate-config';
import { SyncConfig } from './sync-config.type';

const DAY_MS = 86_400_000;

export class SyncEnvVariables {
  @IsInt()
  @Min(1)
  @IsOptional()
  SYNC_MAX_PUSH_RECORDS?: number;

  @IsInt()
  @Min(0)
  @IsOptional()
  SYNC_TOMBSTONE_RETENTION_MS?: number;

  @IsInt()
  @Min(0)
  @IsOptional()
  SYNC_PURGE_INTERVAL_MS?: number;

  @IsInt()
  @Min(1)
  @IsOptional()
  SYNC_EVENTS_PER_DEVICE?: number;

  @IsInt()
  @Min(100)
  @Max(30_000)
  @IsOptional()
  SYNC_EVENTS_PING_MS?: number;
}

export function loadSyncConfig(env: NodeJS.ProcessEnv = process.env): SyncConfig {
  const vars = validateConfig(env, SyncEnvVariables);
  return {
    maxPushRecords: vars.SYNC_MAX_PUSH_RECORDS ?? 20_000,
    tombstoneRetentionMs: vars.SYNC_TOMBSTONE_RETENTION_MS ?? 90 * DAY_MS,
    purgeIntervalMs: vars.SYNC_PURGE_INTERVAL_MS ?? 3_600_000,
    eventsPerDevice: vars.SYNC_EVENTS_PER_DEVICE ?? 5,
    eventsPingMs: vars.SYNC_EVENTS_PING_MS ?? 25_000,
  };
}

export default registerAs<SyncConfig>('sync', () => loadSyncConfig());
