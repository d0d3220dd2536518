import { DatabaseConfig } from '../database/config/database-config.type';
import { DevicesConfig } from '../devices/config/devices-config.type';
import { SyncConfig } from '../sync/config/sync-config.type';
import { AppConfig } from './app-config.type';

export type AllConfigType = {
  app: AppConfig;
  database: DatabaseConfig;
  devices: DevicesConfig;
  sync: SyncConfig;
};
