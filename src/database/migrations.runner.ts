import { Injectable, Logger, OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { DataSource } from 'typeorm';
import { AllConfigType } from '../config/config.type';

/** Any constant works; it only has to be the same in every instance of the app. */
const MIGRATIONS_LOCK_KEY = 725_120_001;

/**
 * Runs pending migrations at start-up (DATABASE_RUN_MIGRATIONS=false turns it off). The
 * advisory lock makes instances that start together take turns instead of racing on DDL.
 */
@Injectable()
export class MigrationsRunner implements OnModuleInit {
  private readonly logger = new Logger(MigrationsRunner.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly config: ConfigService<AllConfigType, true>,
  ) {}

  async onModuleInit(): Promise<void> {
    if (!this.config.get('database.runMigrations', { infer: true })) return;
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.query('SELECT pg_advisory_lock($1)', [MIGRATIONS_LOCK_KEY]);
      const applied = await this.dataSource.runMigrations({ transaction: 'all' });
      for (const migration of applied) this.logger.log(`Applied migration ${migration.name}`);
    } finally {
      await runner
        .query('SELECT pg_advisory_unlock($1)', [MIGRATIONS_LOCK_KEY])
        .catch(() => undefined);
      await runner.release();
    }
  }
}
