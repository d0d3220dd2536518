import { registerAs } from '@nestjs/config';
import { IsInt, IsOptional, Min } from 'class-validator';
import { validateConfig } from '../../utils/validate-config';
import { SyncConfig } from './sync-config.type';

class SyncEnvVariables {
  @IsInt()
  @Min(1)
  @IsOptional()
  SYNC_MAX_PUSH_RECORDS?: number;
}

export function loadSyncConfig(env: NodeJS.ProcessEnv = process.env): SyncConfig {
  const vars = validateConfig(env, SyncEnvVariables);
  return { maxPushRecords: vars.SYNC_MAX_PUSH_RECORDS ?? 20_000 };
}

export default registerAs<SyncConfig>('sync', () => loadSyncConfig());
