/**
 * Purges the tombstones past SYNC_TOMBSTONE_RETENTION_MS once (`npm run purge`), e.g. from cron
 * with SYNC_PURGE_INTERVAL_MS=0 on the servers. With DATABASE_URL unset it works on the embedded
 * PostgreSQL that `npm start` uses (not while the server runs: one process owns its folder).
 */
import 'dotenv/config';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../src/app.module';
import { provisionDatabase } from '../src/database/database-provisioning';
import { TombstonePurgeService } from '../src/sync/purge/tombstone-purge.service';

async function main(): Promise<void> {
  const logger = { log: console.log, warn: console.warn };
  // This run is the purge: the service's own timer stays off.
  process.env.SYNC_PURGE_INTERVAL_MS = '0';
  const database = await provisionDatabase(logger);
  try {
    const app = await NestFactory.createApplicationContext(AppModule, {
      logger: ['error', 'warn'],
    });
    try {
      const purged = await app.get(TombstonePurgeService).purge();
      logger.log(
        purged === null
          ? 'Another instance is purging right now; nothing done'
          : `Purged ${purged} tombstones`,
      );
    } finally {
      await app.close();
    }
  } finally {
    await database.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
