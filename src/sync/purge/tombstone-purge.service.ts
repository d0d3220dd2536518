import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { DataSource } from 'typeorm';
import { AllConfigType } from '../../config/config.type';
import { MetricsService } from '../../metrics/metrics.service';
import { SYNC_TABLES } from '../registry/sync-tables';
import { SyncService } from '../sync.service';

/** Any constant; the same in every instance, so that one purges at a time. */
const PURGE_LOCK_KEY = 725_120_002;
/** Tombstones per batch: each batch is a short transaction of its own. */
export const PURGE_BATCH = 500;

/**
 * Deletes the tombstones older than SYNC_TOMBSTONE_RETENTION_MS, every SYNC_PURGE_INTERVAL_MS
 * and on `npm run purge`. One instance at a time (a session advisory lock; the others skip their
 * turn), in batches (SyncService.purgeTombstones) so that no lock is held for long.
 */
@Injectable()
export class TombstonePurgeService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(TombstonePurgeService.name);
  private timer?: NodeJS.Timeout;
  private running?: Promise<unknown>;
  private stopping = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly sync: SyncService,
    private readonly config: ConfigService<AllConfigType, true>,
    private readonly metrics: MetricsService,
  ) {}

  onApplicationBootstrap(): void {
    const interval = this.config.get('sync.purgeIntervalMs', { infer: true });
    if (interval === 0) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.purge()
        .catch((error: Error) => this.logger.warn(`tombstone purge failed: ${error.message}`))
        .finally(() => (this.running = undefined));
    }, interval);
    this.timer.unref();
  }

  /** Shutdown waits for the batch under way, not for the rest of the run. */
  async onModuleDestroy(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.running;
  }

  /**
   * Purges every tombstone past the retention. Resolves with how many went, or null when another
   * instance is purging.
   */
  async purge(): Promise<number | null> {
    const lock = this.dataSource.createQueryRunner();
    await lock.connect();
    try {
      const [{ locked }] = (await lock.query('SELECT pg_try_advisory_lock($1) AS "locked"', [
        PURGE_LOCK_KEY,
      ])) as Array<{ locked: boolean }>;
      if (!locked) return null;
      try {
        const retention = this.config.get('sync.tombstoneRetentionMs', { infer: true });
        const cutoff = new Date(Date.now() - retention);
        let purged = 0;
        for (const table of SYNC_TABLES) {
          for (let batch = PURGE_BATCH; batch === PURGE_BATCH && !this.stopping;) {
            batch = await this.sync.purgeTombstones(table, cutoff, PURGE_BATCH);
            purged += batch;
            this.metrics.purgedTombstones.inc(batch);
          }
        }
        if (purged > 0)
          this.logger.log(`purged ${purged} tombstones deleted before ${cutoff.toISOString()}`);
        return purged;
      } finally {
        await lock.query('SELECT pg_advisory_unlock($1)', [PURGE_LOCK_KEY]);
      }
    } finally {
      await lock.release();
    }
  }
}
