import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { DrainingService } from './common/shutdown/draining.service';
import { ThrottlingModule } from './common/throttling/throttling.module';
import appConfig from './config/app.config';
import databaseConfig from './database/config/database.config';
import { DatabaseModule } from './database/database.module';
import devicesConfig from './devices/config/devices.config';
import { DevicesModule } from './devices/devices.module';
import { GamesModule } from './games/games.module';
import { HealthModule } from './health/health.module';
import { MetricsModule } from './metrics/metrics.module';
import syncConfig from './sync/config/sync.config';
import { SyncModule } from './sync/sync.module';

@Module({
  imports: [
    ConfigModule.forRoot({
      isGlobal: true,
      load: [appConfig, databaseConfig, devicesConfig, syncConfig],
    }),
    DatabaseModule,
    MetricsModule,
    ThrottlingModule,
    DevicesModule,
    GamesModule,
    SyncModule,
    HealthModule,
  ],
  providers: [DrainingService],
})
export class AppModule {}
