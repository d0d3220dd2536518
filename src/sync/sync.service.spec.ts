import { BadRequestException, ConflictException } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Logger } from 'pino';
import { Query } from 'pg';
import { DataSource, QueryRunner } from 'typeorm';
import { DeviceEntity } from '../devices/entities/device.entity';
import { SYNC_TABLES } from './registry/sync-tables';
import { MetricsService } from '../metrics/metrics.service';
import { SyncEventsService } from './events/sync-events.service';
import { SyncService } from './sync.service';
import { PushRequest } from './validation/push-body.pipe';

/**
 * The QueryRunner is mocked: this spec is about transaction handling, not SQL (e2e covers that).
 * `statement` answers the prepared statements sent to the runner's pg client, whether awaited
 * for their rows or streamed (a pg Query, which emits them); `runner.query` gets the rest.
 */
function mockRunner(statement: jest.Mock): jest.Mocked<QueryRunner> {
  const runner = {
    isTransactionActive: false,
    isReleased: false,
    connect: jest.fn(async () => ({
      query: (config: { text: string; values: unknown[] }) => {
        const rows = Promise.resolve(statement(config.text, config.values) as unknown);
        if (!(config instanceof Query)) return rows.then((result) => ({ rows: result }));
        rows.then(
          (result) => {
            for (const row of result as unknown[]) config.emit('row', row);
            config.emit('end');
          },
          (error: unknown) => config.emit('error', error),
        );
        return config;
      },
    })),
    startTransaction: jest.fn(async () => void (runner.isTransactionActive = true)),
    commitTransaction: jest.fn(async () => void (runner.isTransactionActive = false)),
    rollbackTransaction: jest.fn(async () => void (runner.isTransactionActive = false)),
    release: jest.fn(async () => void (runner.isReleased = true)),
    query: jest.fn(async () => []),
  };
  return runner as unknown as jest.Mocked<QueryRunner>;
}

const device = { id: 'device', accountId: 'account' } as DeviceEntity;

/** Part 0 of the push's first statement: the clock before and after, read in a current snapshot. */
const clockRow = (lastStamp: number) => ({
  part: 0,
  json: JSON.stringify([lastStamp, lastStamp + 1, 0, true]),
});

const emptyPush = (lastPulledAt: number): PushRequest => ({
  changes: new Map(SYNC_TABLES.map((t) => [t, { created: [], updated: [], deleted: [] }])),
  lastPulledAt,
  records: 0,
});

/** A push that deletes g1. */
const pushDeleting = (lastPulledAt: number): PushRequest => {
  const push = emptyPush(lastPulledAt);
  push.changes.set(SYNC_TABLES[0], { created: [], updated: [], deleted: ['g1'] });
  return push;
};

/** The request's logger, which the sync lines go to. */
const log = { info: jest.fn() } as unknown as Logger;

describe('SyncService transactions', () => {
  let runner: jest.Mocked<QueryRunner>;
  let service: SyncService;

  const events = { announceChanges: jest.fn(async () => undefined) };
  const counter = () => ({ inc: jest.fn() });
  const metrics = {
    recordsPulled: counter(),
    recordsPushed: counter(),
    replacementPulls: counter(),
  };

  async function build(statement: jest.Mock) {
    runner = mockRunner(statement);
    const moduleRef = await Test.createTestingModule({
      providers: [
        SyncService,
        { provide: DataSource, useValue: { createQueryRunner: () => runner } },
        { provide: SyncEventsService, useValue: events },
        { provide: MetricsService, useValue: metrics },
      ],
    }).compile();
    service = moduleRef.get(SyncService);
  }

  it('commits and releases a push that succeeds', async () => {
    await build(jest.fn(async () => [clockRow(100)]));
    await expect(service.push(device, pushDeleting(100), log)).resolves.toEqual({ ok: true });
    expect(runner.startTransaction).toHaveBeenCalledWith();
    expect(runner.query).not.toHaveBeenCalledWith(expect.stringContaining('SET TRANSACTION'));
    expect(runner.commitTransaction).toHaveBeenCalled();
    expect(runner.rollbackTransaction).not.toHaveBeenCalled();
    expect(runner.release).toHaveBeenCalled();
    // Announced once committed, with the push's stamp.
    expect(events.announceChanges).toHaveBeenCalledWith('account', 101);
  });

  it('rolls back and releases when a push is refused', async () => {
    const changes = pushDeleting(100);
    await build(
      jest.fn(async () => [
        clockRow(200),
        {
          part: 1,
          json: JSON.stringify({
            table: 'games',
            stamp: 150,
            deleted: false,
            values: { id: 'g1' },
          }),
        },
      ]),
    );
    events.announceChanges.mockClear();
    await expect(service.push(device, changes, log)).rejects.toBeInstanceOf(ConflictException);
    expect(events.announceChanges).not.toHaveBeenCalled();
    expect(runner.rollbackTransaction).toHaveBeenCalled();
    expect(runner.commitTransaction).not.toHaveBeenCalled();
    expect(runner.release).toHaveBeenCalled();
  });

  it('reads the rows again when another push of the device committed while it waited for the lock', async () => {
    const changes = pushDeleting(100);
    const g1 = (stamp: number) => ({
      part: 1,
      json: JSON.stringify({ table: 'games', stamp, deleted: false, values: { id: 'g1' } }),
    });
    const query = jest
      .fn()
      // The first statement's snapshot predates the push it waited for: g1 looks untouched.
      .mockResolvedValueOnce([{ part: 0, json: JSON.stringify([200, 201, 0, false]) }, g1(50)])
      // Read again: that push changed g1 after last_pulled_at.
      .mockResolvedValueOnce([g1(150)]);
    await build(query);
    await expect(service.push(device, changes, log)).rejects.toBeInstanceOf(ConflictException);
    expect(query).toHaveBeenCalledTimes(2);
  });

  it('pulls in one read-only REPEATABLE READ transaction, answering the clock it read', async () => {
    const statement = jest
      .fn()
      .mockResolvedValueOnce([{ last_stamp: '200', purged_stamp: '0' }])
      .mockResolvedValueOnce([[0, JSON.stringify({ id: 'g1' })]]);
    await build(statement);
    const body = await service.pull(device, { lastPulledAt: 100 }, log);
    expect(body.kind).toBe('whole');
    expect(JSON.parse((body as { chunk: Buffer }).chunk.toString())).toMatchObject({
      changes: { games: { updated: [{ id: 'g1' }] } },
      timestamp: 200,
    });
    expect(runner.startTransaction).toHaveBeenCalledWith();
    expect(runner.query).toHaveBeenCalledWith(
      'SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY',
    );
    // The clock first: its statement takes the snapshot that the rows are read from.
    expect(statement.mock.calls[0][0]).toContain('"last_stamp"');
    expect(runner.commitTransaction).toHaveBeenCalled();
    expect(runner.release).toHaveBeenCalled();
  });

  it('refuses a last_pulled_at above the clock before reading, and rolls back', async () => {
    const statement = jest.fn().mockResolvedValueOnce([{ last_stamp: '200', purged_stamp: '0' }]);
    await build(statement);
    await expect(service.pull(device, { lastPulledAt: 201 }, log)).rejects.toBeInstanceOf(
      BadRequestException,
    );
    expect(statement).toHaveBeenCalledTimes(1);
    expect(runner.rollbackTransaction).toHaveBeenCalled();
    expect(runner.commitTransaction).not.toHaveBeenCalled();
    expect(runner.release).toHaveBeenCalled();
  });

  it('rolls back and releases the connection when the database fails mid-pull', async () => {
    const statement = jest
      .fn()
      .mockResolvedValueOnce([{ last_stamp: '200', purged_stamp: '0' }])
      .mockRejectedValueOnce(new Error('connection lost'));
    await build(statement);
    await expect(service.pull(device, { lastPulledAt: 0 }, log)).rejects.toThrow('connection lost');
    expect(runner.rollbackTransaction).toHaveBeenCalled();
    expect(runner.release).toHaveBeenCalled();
  });
});
