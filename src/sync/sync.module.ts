import { Module } from '@nestjs/common';
import { DevicesModule } from '../devices/devices.module';
import { GamesModule } from '../games/games.module';
import { PlanModeService } from './sql/plan-mode.service';
import { SyncController } from './sync.controller';
import { SyncService } from './sync.service';
import { PushBodyPipe } from './validation/push-body.pipe';

@Module({
  imports: [DevicesModule, GamesModule],
  controllers: [SyncController],
  providers: [SyncService, PushBodyPipe, PlanModeService],
})
export class SyncModule {}
