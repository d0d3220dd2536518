import { Module, OnModuleInit } from '@nestjs/common';
import { DevicesModule } from '../devices/devices.module';
import { GamesModule } from '../games/games.module';
import { SyncEventsService } from './events/sync-events.service';
import { TombstonePurgeService } from './purge/tombstone-purge.service';
import { checkSyncTables, SYNC_TABLES } from './registry/sync-tables';
import { SyncController } from './sync.controller';
import { SyncService } from './sync.service';
import { PushBodyPipe } from './validation/push-body.pipe';

@Module({
  imports: [DevicesModule, GamesModule],
  controllers: [SyncController],
  providers: [SyncService, PushBodyPipe, TombstonePurgeService, SyncEventsService],
})
export class SyncModule implements OnModuleInit {
  onModuleInit(): void {
    checkSyncTables(SYNC_TABLES);
  }
}
