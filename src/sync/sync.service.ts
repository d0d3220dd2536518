import {
  BadRequestException,
  ConflictException,
  Injectable,
  UnprocessableEntityException,
} from '@nestjs/common';
import type { Logger } from 'pino';
import { DataSource, QueryRunner } from 'typeorm';
import { DeviceEntity } from '../devices/entities/device.entity';
import { MetricsService } from '../metrics/metrics.service';
import { PushResponseDto } from './dto/push-response.dto';
import { SyncEventsService } from './events/sync-events.service';
import { PullBodyOut, PullReading, readClock, readPull } from './pull/pull-reader';
import { idsToLoad, planPush } from './push/push-plan';
import { PushWriter } from './push/push-writer';
import { LOCK_ACCOUNTS_SQL, oldTombstonesSql, purgeTombstonesSql } from './purge/purge-sql';
import { SYNC_TABLE_NAMES, SyncTable, syncTable } from './registry/sync-tables';
import { queryPrepared } from './sql/query-prepared';
import { PullRequest } from './validation/pull-query.pipe';
import { PushRequest } from './validation/push-body.pipe';

/**
 * The pull's transaction: every statement reads the one snapshot its first statement takes, so
 * rows and clock agree. (TypeORM's startTransaction sets an isolation level but not READ ONLY;
 * this sets both in one statement.)
 */
const ONE_SNAPSHOT = 'SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY';

/**
 * The sync protocol: one QueryRunner transaction per pull and per push, started, committed or
 * rolled back, and released here and nowhere else. The device is the token's, checked by the
 * guard (it exists and is not revoked); the data and the clock are its account's.
 */
@Injectable()
export class SyncService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly events: SyncEventsService,
    private readonly metrics: MetricsService,
  ) {}

  /**
   * Everything committed to the device's account since `last_pulled_at`, and the account clock as
   * `timestamp`, read from one snapshot: the response body, whole or streamed as PostgreSQL's rows
   * come (PullReading). When tombstones newer than `last_pulled_at` were purged, the changes
   * cannot be told (a deletion would be missed): the body holds every live record instead, as a
   * replacement. A refusal (a last_pulled_at never issued) or an error before the body goes out
   * answers as usual; a failure after that breaks the response off, so the client never takes a
   * partial pull for a whole one. `log`: the request's logger.
   */
  pull(device: DeviceEntity, query: PullRequest, log: Logger): Promise<PullBodyOut> {
    const startedAt = Date.now();
    const reading = new PullReading(SYNC_TABLE_NAMES);
    void this.inTransaction(async (runner) => {
      const { timestamp, purgedStamp } = await readClock(runner, device.accountId);
      this.assertIssued(query.lastPulledAt, timestamp);
      const replacement = query.lastPulledAt > 0 && query.lastPulledAt < purgedStamp;
      const since = sinceByTable(replacement ? { lastPulledAt: 0 } : query);
      await readPull(runner, device.accountId, since, reading);
      return { timestamp, replacement };
    }, ONE_SNAPSHOT).then(
      ({ timestamp, replacement }) => {
        reading.end(timestamp, replacement);
        this.metrics.recordsPulled.inc(reading.records);
        if (replacement) this.metrics.replacementPulls.inc();
        logSync(log, 'pull', device, reading.records, startedAt);
      },
      (error: unknown) => {
        if (reading.fail(error)) {
          log.error({ err: error, device_id: device.id }, 'pull broken off after its body started');
        }
      },
    );
    return reading.body;
  }

  /**
   * Applies a whole push or nothing (409, 422, 400), in one READ COMMITTED transaction whose first
   * statement locks the account row: the pushes of the account's devices run one at a time, and
   * every statement after the lock sees what the pushes before it committed.
   */
  async push(
    device: DeviceEntity,
    { changes, lastPulledAt, records }: PushRequest,
    log: Logger,
  ): Promise<PushResponseDto> {
    const startedAt = Date.now();
    const stamp = await this.inTransaction(async (runner) => {
      const writer = new PushWriter(runner, device.accountId);
      const { clock, existing } = await writer.lockAndLoad(idsToLoad(changes));
      this.assertIssued(lastPulledAt, clock.lastStamp);
      if (lastPulledAt < clock.purgedStamp) {
        // Its pull predates deletions that are purged now: what it pushes could bring one back.
        throw new ConflictException({
          statusCode: 409,
          message:
            'Deletions after last_pulled_at were purged from the server: pull, then push again',
          conflicts: [],
        });
      }
      const plan = planPush(changes, existing, lastPulledAt);
      if (plan.kind === 'conflict') {
        throw new ConflictException({
          statusCode: 409,
          message: 'Some records changed on the server after last_pulled_at: pull, then push again',
          conflicts: plan.conflicts,
        });
      }
      if (plan.kind === 'orphans') {
        throw new UnprocessableEntityException({
          statusCode: 422,
          message: plan.orphans.map(
            (o) =>
              `${o.table} ${o.id}: ${o.column} ${o.parent_id} is not a record of this account (neither on the server nor in this push)`,
          ),
          orphans: plan.orphans,
        });
      }
      await writer.apply(plan.tables, clock.stamp);
      return clock.stamp;
    });
    // Committed: the account's open event streams, on every instance, learn of it.
    void this.events.announceChanges(device.accountId, stamp);
    this.metrics.recordsPushed.inc(records);
    logSync(log, 'push', device, records, startedAt);
    return { ok: true };
  }

  /**
   * One batch of the tombstone purge (TombstonePurgeService): up to `limit` tombstones of `table`
   * deleted before `cutoff` go, and their accounts' purged_stamp rises with them. The accounts are
   * locked first, as a push does, so the batch waits for their pushes in flight (and they for
   * it) for no longer than a batch takes. Returns how many tombstones went.
   */
  purgeTombstones(table: SyncTable, cutoff: Date, limit: number): Promise<number> {
    return this.inTransaction(async (runner) => {
      const batch = await queryPrepared<{ account_id: string; id: string }>(
        runner,
        `sync_purge_batch_${table.name}`,
        oldTombstonesSql(table),
        [cutoff, limit],
      );
      if (batch.length === 0) return 0;
      const accounts = batch.map((row) => row.account_id);
      await queryPrepared(runner, 'sync_purge_lock', LOCK_ACCOUNTS_SQL, [[...new Set(accounts)]]);
      const [{ purged }] = await queryPrepared<{ purged: number }>(
        runner,
        `sync_purge_${table.name}`,
        purgeTombstonesSql(table),
        [accounts, batch.map((row) => row.id), cutoff],
      );
      return purged;
    });
  }

  /** A last_pulled_at above the account clock was never issued by this server. */
  private assertIssued(lastPulledAt: number, clock: number): void {
    if (lastPulledAt > clock) {
      throw new BadRequestException({
        statusCode: 400,
        message: `last_pulled_at ${lastPulledAt} was not issued by this server (the latest for this account is ${clock})`,
      });
    }
  }

  /**
   * Runs `work` in a transaction on a connection of its own: committed when it succeeds, rolled
   * back when it throws, the connection released either way. `settings`: a SET TRANSACTION
   * statement run first (the default is READ COMMITTED, read-write).
   */
  private async inTransaction<T>(
    work: (runner: QueryRunner) => Promise<T>,
    settings?: string,
  ): Promise<T> {
    const runner = this.dataSource.createQueryRunner();
    try {
      await runner.startTransaction();
      if (settings) await runner.query(settings);
      const result = await work(runner);
      await runner.commitTransaction();
      return result;
    } catch (error) {
      // A connection that broke mid-transaction has already released the runner (and the
      // server rolled back); the original error is the one to report.
      if (!runner.isReleased && runner.isTransactionActive) {
        await runner.rollbackTransaction().catch(() => undefined);
      }
      throw error;
    } finally {
      if (!runner.isReleased) await runner.release();
    }
  }
}

/**
 * The stamp to read each table from: `last_pulled_at`, or 0 (every live row) for the tables, or
 * tables of the columns, that a client migration added: the client has none of their rows yet.
 */
function sinceByTable({ lastPulledAt, migration }: PullRequest): Map<string, number> {
  const since = new Map(SYNC_TABLE_NAMES.map((name) => [name, lastPulledAt]));
  for (const name of [
    ...(migration?.tables ?? []),
    ...(migration?.columns ?? []).map((c) => c.table),
  ]) {
    if (syncTable(name)) since.set(name, 0);
  }
  return since;
}

/** Counts and timing only: never record content. */
function logSync(
  log: Logger,
  kind: 'pull' | 'push',
  device: DeviceEntity,
  records: number,
  startedAt: number,
): void {
  log.info(
    {
      sync: kind,
      device_id: device.id,
      account_id: device.accountId,
      records,
      duration_ms: Date.now() - startedAt,
    },
    `sync ${kind}`,
  );
}
