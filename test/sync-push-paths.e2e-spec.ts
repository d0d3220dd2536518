/**
 * The push has two paths: one statement for a plain push (PushWriter.applyPlain) and the
 * transaction that decides every case (lockAndLoad, planPush, apply). This property runs both on
 * the same server state and push, each in a transaction it rolls back, and checks that
 * - the one statement writes exactly when the transaction would upsert every record live, with
 *   nothing to decide (no conflict, replay, orphan, tombstone or cascade, last_pulled_at issued);
 * - when it writes, it leaves the same rows as the transaction;
 * - when it declines, it changes nothing, not even the clock.
 * It runs once per shape of the statements' lookups by id (keyed-rows.ts).
 *
 *   PATHS_RUNS  cases (default 300)
 */
import fc from 'fast-check';
import { QueryRunner } from 'typeorm';
import { idsToLoad, planPush } from '../src/sync/push/push-plan';
import { PlainOutcome, PushWriter } from '../src/sync/push/push-writer';
import { SYNC_TABLES, wireColumns } from '../src/sync/registry/sync-tables';
import { KeyLookup } from '../src/sync/sql/keyed-rows';
import { PushChanges, validatePushChanges } from '../src/sync/validation/validate-push-changes';
import { game, player, Rec, round, score } from './utils/sync-records';
import { createTestApp, registerDevice, TestApp } from './utils/test-app';

const RUNS = Number(process.env.PATHS_RUNS ?? 300);

/** last_pulled_at of the pushes, and the device clock before them. */
const PULLED = 1_000_000;
const CLOCK = PULLED + 10;

type TableName = 'games' | 'game_players' | 'rounds' | 'scores';

/** A small world of ids, so that pushes and server rows meet; the `x` ids never exist. */
const IDS: Record<TableName, string[]> = {
  games: ['g0', 'g1'],
  game_players: ['p0', 'p1'],
  rounds: ['r0', 'r1'],
  scores: ['s0', 's1'],
};
/** Mostly ids of the world, now and then one that never exists. */
const ref = (table: TableName, missing: string) =>
  fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...IDS[table]) }, fc.constant(missing));
const gameRef = ref('games', 'gx');
const nameArb = fc.constantFrom('a', 'b');

/** Records with few distinct values, so that a pushed record is often the stored one (a replay). */
const RECORD: Record<TableName, (id: string) => fc.Arbitrary<Rec>> = {
  games: (id) => nameArb.map((name) => game({ id, name })),
  game_players: (id) =>
    fc.tuple(gameRef, nameArb).map(([gameId, name]) => player(gameId, { id, name })),
  rounds: (id) =>
    fc
      .tuple(gameRef, fc.constantFrom(1, 2))
      .map(([gameId, n]) => round(gameId, { id, round_number: n })),
  scores: (id) =>
    fc
      .tuple(ref('rounds', 'rx'), ref('game_players', 'px'), fc.constantFrom(5, 6))
      .map(([roundId, playerId, raw]) => score(roundId, playerId, { id, raw_score: raw })),
};

type Stored = { record: Rec; stamp: number; deleted: boolean };
type Case = {
  stored: Record<TableName, Stored[]>;
  pushed: Record<TableName, { created: Rec[]; updated: Rec[] }>;
  lastPulledAt: number;
};

const tableArb = <T>(each: (table: TableName, id: string) => fc.Arbitrary<T | null>) =>
  fc.record(
    Object.fromEntries(
      (Object.keys(IDS) as TableName[]).map((table) => [
        table,
        fc
          .tuple(...IDS[table].map((id) => each(table, id)))
          .map((items) => items.filter((item): item is T => item !== null)),
      ]),
    ) as Record<TableName, fc.Arbitrary<T[]>>,
  );

const caseArb: fc.Arbitrary<Case> = fc.record({
  stored: tableArb<Stored>((table, id) =>
    fc.option(
      fc.record({
        record: RECORD[table](id),
        // Mostly before last_pulled_at, sometimes after; never above the clock.
        stamp: fc.constantFrom(PULLED - 5, PULLED - 5, PULLED, PULLED + 5),
        deleted: fc.constantFrom(false, false, false, true),
      }),
      { freq: 5 },
    ),
  ).map((stored) => stored as Record<TableName, Stored[]>),
  pushed: tableArb<{ record: Rec; as: 'created' | 'updated' }>((table, id) =>
    // Small pushes: each id is in one now and then.
    fc.oneof(
      { weight: 7, arbitrary: fc.constant(null) },
      {
        weight: 3,
        arbitrary: fc.record({
          record: RECORD[table](id),
          as: fc.constantFrom('created', 'updated'),
        }),
      },
    ),
  ).map(
    (pushed) =>
      Object.fromEntries(
        Object.entries(pushed).map(([table, items]) => [
          table,
          {
            created: items.filter((i) => i.as === 'created').map((i) => i.record),
            updated: items.filter((i) => i.as === 'updated').map((i) => i.record),
          },
        ]),
      ) as Case['pushed'],
  ),
  // Mostly an issued timestamp; sometimes one above the clock (400 on the transaction path).
  lastPulledAt: fc.oneof({ weight: 9, arbitrary: fc.constant(PULLED) }, fc.constant(CLOCK + 1)),
});

function validated(pushed: Case['pushed']): PushChanges {
  const result = validatePushChanges(pushed);
  if ('errors' in result) throw new Error(result.errors.join('; '));
  return result.changes;
}

/** Every row of the device, stamps written by this push shown as 'new', and the clock. */
async function snapshot(runner: QueryRunner, deviceId: string): Promise<unknown> {
  const rows: Record<string, unknown[]> = {};
  for (const table of SYNC_TABLES) {
    const columns = wireColumns(table).map((c) => `"${c}"`);
    const found = (await runner.query(
      `SELECT ${columns.join(', ')}, "stamp"::text, "deleted_at" IS NOT NULL AS "deleted"
       FROM "${table.name}" WHERE "device_id" = $1 ORDER BY "id"`,
      [deviceId],
    )) as Array<Record<string, unknown>>;
    rows[table.name] = found.map((row) => ({
      ...row,
      stamp: Number(row.stamp) > CLOCK + 1 ? 'new' : Number(row.stamp),
    }));
  }
  const [device] = (await runner.query(`SELECT "last_stamp"::text FROM "devices" WHERE "id" = $1`, [
    deviceId,
  ])) as Array<{ last_stamp: string }>;
  const clock = Number(device.last_stamp);
  return { rows, clock: clock > CLOCK + 1 ? 'advanced' : clock };
}

/** Runs `work` in a transaction that is always rolled back; returns its result and the rows. */
async function rolledBack<T>(
  t: TestApp,
  deviceId: string,
  work: (runner: QueryRunner) => Promise<T>,
): Promise<{ result: T; after: unknown }> {
  const runner = t.dataSource.createQueryRunner();
  await runner.connect();
  await runner.startTransaction();
  try {
    const result = await work(runner);
    return { result, after: await snapshot(runner, deviceId) };
  } finally {
    await runner.rollbackTransaction();
    await runner.release();
  }
}

describe.each<KeyLookup>(['any', 'probe'])(
  'Push: the one-statement path agrees with the transaction, lookups by %s (e2e)',
  (lookup) => {
    let t: TestApp;
    let deviceId: string;

    beforeAll(async () => {
      t = await createTestApp();
      ({ deviceId } = await registerDevice(t));
    });
    afterAll(() => t.close());

    async function seed({ stored }: Case): Promise<void> {
      for (const table of SYNC_TABLES) {
        await t.dataSource.query(`DELETE FROM "${table.name}" WHERE "device_id" = $1`, [deviceId]);
        for (const { record, stamp, deleted } of stored[table.name as TableName]) {
          const columns = wireColumns(table);
          await t.dataSource.query(
            `INSERT INTO "${table.name}" ("device_id", ${columns.map((c) => `"${c}"`).join(', ')}, "stamp", "deleted_at")
           VALUES ($1, ${columns.map((_, i) => `$${i + 2}`).join(', ')}, ${stamp}, ${deleted ? 'now()' : 'NULL'})`,
            [deviceId, ...columns.map((c) => record[c])],
          );
        }
      }
      await t.dataSource.query(`UPDATE "devices" SET "last_stamp" = $2 WHERE "id" = $1`, [
        deviceId,
        CLOCK,
      ]);
    }

    it('writes the same rows, or nothing when the push needs the transaction', async () => {
      let applied = 0;
      let declined = 0;
      await fc.assert(
        fc.asyncProperty(caseArb, async (c) => {
          await seed(c);
          const changes = validated(c.pushed);
          const { after: before } = await rolledBack(t, deviceId, async () => null);

          const plain = await rolledBack<PlainOutcome>(t, deviceId, (runner) =>
            new PushWriter(runner, deviceId, lookup).applyPlain(changes, c.lastPulledAt),
          );

          const full = await rolledBack(t, deviceId, async (runner) => {
            const writer = new PushWriter(runner, deviceId, lookup);
            const started = (await writer.lockAndLoad(idsToLoad(changes)))!;
            if (c.lastPulledAt > started.clock.lastStamp) return { plainEnough: false };
            const plan = planPush(changes, started.existing, c.lastPulledAt);
            if (plan.kind !== 'apply') return { plainEnough: false };
            await writer.apply(plan.tables, started.clock.stamp);
            const replayed = [...changes].some(([table, { created, updated }]) =>
              [...created, ...updated].some(
                (record) =>
                  (started.existing.get(table)!.get(record.id as string)?.stamp ?? 0) >
                  c.lastPulledAt,
              ),
            );
            const allLive = [...plan.tables.values()].every(
              ({ upserts, deletes }) => deletes.length === 0 && upserts.every((u) => !u.deleted),
            );
            return { plainEnough: allLive && !replayed };
          });

          expect(plain.result).toBe(full.result.plainEnough ? 'applied' : 'declined');
          if (plain.result === 'applied') {
            applied++;
            expect(plain.after).toEqual(full.after);
          } else {
            declined++;
            expect(plain.after).toEqual(before);
          }
        }),
        { numRuns: RUNS, seed: 20_261_126 },
      );
      // The property means little unless both outcomes were exercised often.
      expect(applied).toBeGreaterThan(RUNS / 10);
      expect(declined).toBeGreaterThan(RUNS / 10);
    }, 120_000);
  },
);
