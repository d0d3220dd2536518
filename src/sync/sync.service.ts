import {
  BadRequestException,
  ConflictException,
  Injectable,
  UnprocessableEntityException,
} from '@nestjs/common';
import type { PoolClient } from 'pg';
import type { Logger } from 'pino';
import { DataSource, QueryRunner } from 'typeorm';
import { deviceRefused } from '../devices/device-refused';
import { DevicesService } from '../devices/devices.service';
import { PushResponseDto } from './dto/push-response.dto';
import { PullBodyOut, PullHead, PullReading, readPull } from './pull/pull-reader';
import { idsToLoad, planPush } from './push/push-plan';
import { PushWriter } from './push/push-writer';
import { SYNC_TABLE_NAMES, syncTable } from './registry/sync-tables';
import { KeyLookup } from './sql/keyed-rows';
import { PlanModeService } from './sql/plan-mode.service';
import { PullRequest } from './validation/pull-query.pipe';
import { PushRequest } from './validation/push-body.pipe';

/**
 * Owns the sync transactions: one statement per pull and per plain push (each a transaction of
 * its own), a QueryRunner transaction for every other push. The routes verify the token only
 * (DeviceTokenAuth): the first statement of each also checks that the device exists and is not
 * revoked, and keeps its last_seen_at.
 */
@Injectable()
export class SyncService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly devices: DevicesService,
    private readonly plans: PlanModeService,
  ) {}

  /**
   * Everything committed for the device since `last_pulled_at`, read together with the device
   * clock it returns as `timestamp`: the response body, whole or streamed as PostgreSQL's rows
   * come (PullReading). Refusals (gone or revoked device, a last_pulled_at never issued) and
   * errors before the body goes out answer as usual; a failure after that breaks the response
   * off, so the client never takes a partial pull for a whole one. `log`: the request's logger.
   *
   * The pull is one statement, which PostgreSQL runs as a transaction of its own and which
   * reads one snapshot: rows and clock are consistent without BEGIN/COMMIT around it (or
   * REPEATABLE READ). Those two extra round trips cost 12% of the server's CPU per sync cycle.
   */
  async pull(deviceId: string, query: PullRequest, log: Logger): Promise<PullBodyOut> {
    const since = query.lastPulledAt;
    const startedAt = Date.now();
    const sinceByTable = new Map(SYNC_TABLE_NAMES.map((name) => [name, since]));
    // Tables (or columns) a client migration added: it has none of their rows yet.
    const migration = query.migration;
    for (const name of [
      ...(migration?.tables ?? []),
      ...(migration?.columns ?? []).map((c) => c.table),
    ]) {
      if (syncTable(name)) sinceByTable.set(name, 0);
    }
    const reading = new PullReading(SYNC_TABLE_NAMES);
    const read = this.onConnection((runner) => readPull(runner, deviceId, sinceByTable, reading));
    let head: PullHead;
    try {
      head = await reading.head;
      // The guard checked the token only: this is where a gone or revoked device is refused.
      if (head === null) throw deviceRefused();
      this.assertIssued(since, head.timestamp);
    } catch (error) {
      // The answer is decided: the statement only has its connection to release now.
      read.catch(() => undefined);
      throw error;
    }
    // Once the read is done (and its connection released): the write has no part in it.
    const lastSeenAt = head.lastSeenAt;
    const after = read.then(async () => {
      await this.devices.touch({ id: deviceId, lastSeenAt });
      logSync(log, 'pull', deviceId, reading.records, startedAt);
    });
    // A streamed body ends with `after`; a whole one is answered after it (below).
    after.then(
      () => reading.complete(),
      (error: Error) => {
        if (reading.complete(error)) {
          log.error({ err: error, device_id: deviceId }, 'pull broken off after its body started');
        }
      },
    );
    const body = await reading.body;
    if (body.kind === 'whole') await after;
    return body;
  }

  /**
   * Applies a whole push or nothing (409, 422, 400). A push without deletions first tries the
   * one-statement path (PushWriter.applyPlain), which writes only when the rules leave nothing to
   * decide; everything else, and whatever it declines, runs in one transaction.
   */
  async push(deviceId: string, request: PushRequest, log: Logger): Promise<PushResponseDto> {
    const startedAt = Date.now();
    const hasDeletions = [...request.changes.values()].some(({ deleted }) => deleted.length > 0);
    const plain = hasDeletions
      ? 'declined'
      : await this.onConnection(async (runner) =>
          new PushWriter(runner, deviceId, await this.lookupOf(runner)).applyPlain(
            request.changes,
            request.lastPulledAt,
          ),
        );
    if (plain === 'refused') throw deviceRefused();
    if (plain === 'declined') await this.pushInTransaction(deviceId, request);
    logSync(log, 'push', deviceId, request.records, startedAt);
    return { ok: true };
  }

  private async pushInTransaction(
    deviceId: string,
    { changes, lastPulledAt }: PushRequest,
  ): Promise<void> {
    // READ COMMITTED: the device-row lock taken by the first statement serialises the device's
    // pushes; the statements after it see what the pushes before it committed, and the first
    // one reads its rows again when it had to wait for the lock (see lockAndLoad).
    await this.inTransaction(async (runner) => {
      const writer = new PushWriter(runner, deviceId, await this.lookupOf(runner));
      // Serialises this device's pushes and fixes their stamp order.
      const started = await writer.lockAndLoad(idsToLoad(changes));
      if (!started) throw deviceRefused();
      const { clock, existing } = started;
      this.assertIssued(lastPulledAt, clock.lastStamp);
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
              `${o.table} ${o.id}: ${o.column} ${o.parent_id} is not a record of this device (neither on the server nor in this push)`,
          ),
          orphans: plan.orphans,
        });
      }
      await writer.apply(plan.tables, clock.stamp);
    });
  }

  /** A last_pulled_at above the device clock was never issued by this server. */
  private assertIssued(lastPulledAt: number, deviceClock: number): void {
    if (lastPulledAt > deviceClock) {
      throw new BadRequestException({
        statusCode: 400,
        message: `last_pulled_at ${lastPulledAt} was not issued by this server (the latest for this device is ${deviceClock})`,
      });
    }
  }

  /** How the statements on the runner's connection look rows up by id (PlanModeService). */
  private async lookupOf(runner: QueryRunner): Promise<KeyLookup> {
    return this.plans.lookupFor((await runner.connect()) as PoolClient);
  }

  /** A pooled connection for one statement, which is its own transaction. */
  private async onConnection<T>(work: (runner: QueryRunner) => Promise<T>): Promise<T> {
    const runner = this.dataSource.createQueryRunner();
    try {
      return await work(runner);
    } finally {
      if (!runner.isReleased) await runner.release();
    }
  }

  private async inTransaction<T>(work: (runner: QueryRunner) => Promise<T>): Promise<T> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
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

/** Counts and timing only: never record content. */
function logSync(
  log: Logger,
  kind: 'pull' | 'push',
  deviceId: string,
  records: number,
  startedAt: number,
): void {
  log.info(
    { sync: kind, device_id: deviceId, records, duration_ms: Date.now() - startedAt },
    `sync ${kind}`,
  );
}
