import { loadDatabaseConfig } from '../database/config/database.config';
import { loadDevicesConfig } from '../devices/config/devices.config';
import { loadSyncConfig } from '../sync/config/sync.config';
import { loadAppConfig } from './app.config';
import { AllConfigType } from './config.type';

/** Every namespace, validated up front so main.ts can refuse to start before touching anything. */
export function loadAllConfig(env: NodeJS.ProcessEnv = process.env): AllConfigType {
  return {
    app: loadAppConfig(env),
    database: loadDatabaseConfig(env),
    devices: loadDevicesConfig(env),
    sync: loadSyncConfig(env),
  };
}
