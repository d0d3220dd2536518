import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { buildDataSourceOptions } from '../../ormconfig';
import { AllConfigType } from '../config/config.type';
import { MigrationsRunner } from './migrations.runner';

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<AllConfigType, true>) => ({
        ...buildDataSourceOptions(config.getOrThrow('database.url', { infer: true })),
        // Fail fast at boot rather than retrying for half a minute with no output.
        retryAttempts: 2,
        retryDelay: 1000,
      }),
    }),
  ],
  providers: [MigrationsRunner],
})
export class DatabaseModule {}
