import { ConflictException, UnauthorizedException } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Logger } from 'pino';
import { Query } from 'pg';
import { DataSource, QueryRunner } from 'typeorm';
import { DevicesService } from '../devices/devices.service';
import { SYNC_TABLES } from './registry/sync-tables';
import { PlanModeService } from './sql/plan-mode.service';
import { SyncService } from './sync.service';
import { PushRequest } from './validation/push-body.pipe';

/** The QueryRunner is mocked: this spec is about transaction handling, not SQL (e2e covers that). */
function mockRunner(query: jest.Mock): jest.Mocked<QueryRunner> {
  const runner = {
    isTransactionActive: false,
    // Prepared statements go to the runner's pg client: route them to the same mock, whether
    // they are awaited for their rows or streamed (a pg Query, which emits them).
    connect: jest.fn(async () => ({
      query: (config: { text: string; values: unknown[] }) => {
        const rows = Promise.resolve(query(config.text, config.values) as unknown);
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
    release: jest.fn(),
    query,
  };
  return runner as unknown as jest.Mocked<QueryRunner>;
}

/** Part 0 of the push's first statement: the clock before and after, read in a current snapshot. */
const clockRow = (lastStamp: number) => ({
  part: 0,
  json: JSON.stringify([lastStamp, lastStamp + 1, true]),
});

const emptyPush = (lastPulledAt: number): PushRequest => ({
  changes: new Map(SYNC_TABLES.map((t) => [t, { created: [], updated: [], deleted: [] }])),
  lastPulledAt,
  records: 0,
});

/** The one-statement push's answer: the clock it locked and the stamp it wrote with (or null). */
const plainRow = (lastStamp: number | null, stamp: number | null) => ({
  json: JSON.stringify([lastStamp, stamp]),
});

/** A push with a deletion, which always runs in the transaction. */
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

  async function build(query: jest.Mock) {
    runner = mockRunner(query);
    const moduleRef = await Test.createTestingModule({
      providers: [
        SyncService,
        { provide: DataSource, useValue: { createQueryRunner: () => runner } },
        { provide: DevicesService, useValue: { touch: jest.fn() } },
        { provide: PlanModeService, useValue: { lookupFor: () => 'any' } },
      ],
    }).compile();
    service = moduleRef.get(SyncService);
  }

  it('applies a plain push in its one statement, without a transaction around it', async () => {
    const query = jest.fn(async () => [plainRow(100, 101)]);
    await build(query);
    await expect(service.push('device', emptyPush(100), log)).resolves.toEqual({ ok: true });
    expect(query).toHaveBeenCalledTimes(1);
    expect(runner.startTransaction).not.toHaveBeenCalled();
    expect(runner.release).toHaveBeenCalled();
  });

  it('runs a plain push that the one statement declined in a transaction', async () => {
    const query = jest
      .fn()
      .mockResolvedValueOnce([plainRow(100, null)])
      .mockResolvedValueOnce([clockRow(100)]);
    await build(query);
    await expect(service.push('device', emptyPush(100), log)).resolves.toEqual({ ok: true });
    expect(query).toHaveBeenCalledTimes(2);
    expect(runner.startTransaction).toHaveBeenCalledTimes(1);
    expect(runner.commitTransaction).toHaveBeenCalled();
  });

  it('answers 401 when the one statement finds no active device, with no transaction', async () => {
    const query = jest.fn(async () => [plainRow(null, null)]);
    await build(query);
    await expect(service.push('device', emptyPush(100), log)).rejects.toBeInstanceOf(
      UnauthorizedException,
    );
    expect(query).toHaveBeenCalledTimes(1);
    expect(runner.startTransaction).not.toHaveBeenCalled();
    expect(runner.release).toHaveBeenCalled();
  });

  it('commits and releases a push that succeeds', async () => {
    await build(jest.fn(async () => [clockRow(100)]));
    await expect(service.push('device', pushDeleting(100), log)).resolves.toEqual({ ok: true });
    expect(runner.startTransaction).toHaveBeenCalledWith();
    expect(runner.query).not.toHaveBeenCalledWith(expect.stringContaining('SET TRANSACTION'));
    expect(runner.commitTransaction).toHaveBeenCalled();
    expect(runner.rollbackTransaction).not.toHaveBeenCalled();
    expect(runner.release).toHaveBeenCalled();
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
    await expect(service.push('device', changes, log)).rejects.toBeInstanceOf(ConflictException);
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
      .mockResolvedValueOnce([{ part: 0, json: JSON.stringify([200, 201, false]) }, g1(50)])
      // Read again: that push changed g1 after last_pulled_at.
      .mockResolvedValueOnce([g1(150)]);
    await build(query);
    await expect(service.push('device', changes, log)).rejects.toBeInstanceOf(ConflictException);
    expect(query).toHaveBeenCalledTimes(2);
  });

  it('answers 401, rolls back and writes nothing when the clock finds no active device', async () => {
    const query = jest.fn(async () => []);
    await build(query);
    const changes = pushDeleting(100);
    await expect(service.push('device', changes, log)).rejects.toBeInstanceOf(
      UnauthorizedException,
    );
    expect(query).toHaveBeenCalledTimes(1);
    expect(runner.rollbackTransaction).toHaveBeenCalled();
    expect(runner.commitTransaction).not.toHaveBeenCalled();
    expect(runner.release).toHaveBeenCalled();
  });

  // The pull is one statement: its own transaction, no BEGIN/COMMIT round trips around it.
  it('releases the connection when the database fails mid-pull', async () => {
    await build(jest.fn().mockRejectedValueOnce(new Error('connection lost')));
    await expect(service.pull('device', { lastPulledAt: 0 }, log)).rejects.toThrow(
      'connection lost',
    );
    expect(runner.startTransaction).not.toHaveBeenCalled();
    expect(runner.release).toHaveBeenCalled();
  });
});
