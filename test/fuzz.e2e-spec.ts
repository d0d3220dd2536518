/**
 * Property-based fuzzing of the two sync endpoints with hostile and broken input.
 *
 *   FUZZ_RUNS  runs per property (default 150; `npm run test:fuzz` uses 10000)
 *   FUZZ_SEED  the seed (default fixed, so runs reproduce); fast-check prints it on failure
 *   FUZZ_PATH  with FUZZ_SEED and `-t <property>`: replays the counterexample fast-check printed
 */
import { ConfigService } from '@nestjs/config';
import fc from 'fast-check';
import type { Response } from 'supertest';
import { SYNC_TABLE_NAMES } from '../src/sync/registry/sync-tables';
import {
  buildPush,
  defectPlanArb,
  expectedSince,
  Limits,
  pullQueryArb,
  pullQueryExamples,
  PullQuery,
  pushBody,
  pushDefectExamples,
  PushSpec,
  DefectPlan,
  pushSpecArb,
  POLLUTION_KEY,
  queryText,
  requiredPullStatus,
  spoil,
  toJsonText,
} from './utils/fuzz-arbitraries';
import {
  SEED_DELETIONS,
  SEED_KNOWN as KNOWN,
  SEED_LIVE,
  SEED_PUSH,
  SEED_TOMBSTONES,
} from './utils/fuzz-seed';
import { PullBody, snapshotAccount, syncApi } from './utils/sync-api';
import { game } from './utils/sync-records';
import { createTestApp, registerDevice, RegisteredDevice, TestApp } from './utils/test-app';

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be an integer, not ${raw}`);
  return value;
}

const RUNS = envInt('FUZZ_RUNS', 150);
if (RUNS < 1) throw new Error('FUZZ_RUNS must be at least 1');
const SEED = envInt('FUZZ_SEED', 20_251_126);
const PATH = process.env.FUZZ_PATH || undefined;
/** The control property replays the refusal property's valid pushes; fewer runs do. */
const CONTROL_RUNS = Math.max(20, Math.ceil(RUNS / 20));

const params = <T>(numRuns: number): fc.Parameters<T> => ({ numRuns, seed: SEED, path: PATH });
/** Generous: a run is a few requests; shrinking a failure takes more. */
const timeout = (runs: number, msPerRun: number) => Math.max(60_000, runs * msPerRun * 4);

const PUSH = '/api/v1/sync/push';
const PULL = '/api/v1/sync/pull';
/** Send Buffers and strings as they are (superagent would JSON-encode a Buffer). */
const asIs = (body: unknown) => body as string;

// ---------------------------------------------------------------------------------------------
// A device with live records and tombstones, so that "nothing changed" means something
// ---------------------------------------------------------------------------------------------

// Seeded from test/utils/fuzz-seed.ts: four records of every table, at the ends of every range.

/**
 * `issued`: the timestamps pulls returned before the first push, between the two pushes and
 * after them (the device clock, `clock`).
 */
type Seeded = RegisteredDevice & { issued: number[]; clock: number; snapshot: unknown };

const byId = (a: { id?: unknown }, b: { id?: unknown }) =>
  String(a.id) < String(b.id) ? -1 : String(a.id) > String(b.id) ? 1 : 0;
const sorted = <T extends { id?: unknown }>(records: T[]) => [...records].sort(byId);

async function seedDevice(t: TestApp, verify: boolean): Promise<Seeded> {
  const device = await registerDevice(t, 'fuzz seed');
  const api = syncApi(t, device);
  const pushOk = async (input: Parameters<typeof api.push>[0], lastPulledAt: number) => {
    const response = await api.push(input, lastPulledAt);
    if (response.status !== 200) throw new Error(`seed push: ${response.status} ${response.text}`);
  };
  const t0 = (await api.pullOk()).timestamp;
  await pushOk(SEED_PUSH, t0);
  const t1 = (await api.pullOk()).timestamp;
  await pushOk(SEED_DELETIONS, t1);
  const pulled = await api.pullOk();
  const issued = [t0, t1, pulled.timestamp];
  if (verify) {
    expect(new Set(issued).size).toBe(3);
    const sinceT1 = await api.pullOk(t1);
    for (const table of SYNC_TABLE_NAMES) {
      expect(sorted(pulled.changes[table].updated)).toEqual(sorted(SEED_LIVE[table]));
      expect([...sinceT1.changes[table].deleted].sort()).toEqual(
        [...SEED_TOMBSTONES[table]].sort(),
      );
    }
  }
  const snapshot = await snapshotAccount(t, device.accountId);
  return { ...device, issued, clock: pulled.timestamp, snapshot };
}

/**
 * What a pull from `since` must return, for the values the contract defines: 0 (every live
 * record), and each timestamp issued during seeding (every change committed after it).
 */
function seededChanges(seeded: Seeded, since: number) {
  const [t0, t1] = seeded.issued;
  const all = since === 0 || since === t0;
  const deletions = since === t0 || since === t1;
  return (table: string) => ({
    updated: all ? SEED_LIVE[table] : [],
    deleted: deletions ? SEED_TOMBSTONES[table] : [],
  });
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

function expectStatus(response: Response, allowed: Iterable<number>): void {
  const list = [...allowed].sort();
  if (!list.includes(response.status)) {
    throw new Error(
      `answered ${response.status}, expected one of ${list.join(', ')}: ${response.text?.slice(0, 500)}`,
    );
  }
}

/** `{ statusCode: <the HTTP status>, message: <non-empty string or list of them> }`, as JSON. */
function expectErrorBody(response: Response): void {
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  const body = response.body as { statusCode?: unknown; message?: unknown };
  expect(body.statusCode).toBe(response.status);
  const message = body.message;
  const ok =
    (typeof message === 'string' && message.trim().length > 0) ||
    (Array.isArray(message) &&
      message.length > 0 &&
      message.every((m) => typeof m === 'string' && m.trim().length > 0));
  if (!ok) throw new Error(`message must be a non-empty string or list: ${response.text}`);
}

/** The app runs in this process: a body merged into an object would show on every `{}` here. */
const PROTOTYPE_NAMES = Object.getOwnPropertyNames(Object.prototype).sort();
function expectNoPollution(): void {
  expect(({} as Record<string, unknown>)[POLLUTION_KEY]).toBeUndefined();
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(PROTOTYPE_NAMES);
}

/** A validation 400 lists every offending path (CONTRACT.md), so each defect's path is in it. */
function expectNamed(response: Response, paths: string[]): void {
  const message = (response.body as { message?: unknown }).message;
  const list = Array.isArray(message) ? (message as unknown[]) : [message];
  // Past 100 messages the rest are only counted.
  if (list.length >= 100) return;
  const missing = paths.filter(
    (path) => !list.some((m) => typeof m === 'string' && m.includes(path)),
  );
  if (missing.length) {
    throw new Error(
      `the 400 does not name ${JSON.stringify(missing)}: ${response.text.slice(0, 1000)}`,
    );
  }
}

/**
 * A 200 pull of the seeded device: the contract's shape, records exactly as seeded, tombstones
 * only as ids, the device clock as timestamp; from 0 or an issued timestamp, exactly the changes
 * committed after it.
 */
function expectSeededPull(body: PullBody, seeded: Seeded, since: number | undefined): void {
  expect(Object.keys(body).sort()).toEqual(['changes', 'timestamp']);
  expect(body.timestamp).toBe(seeded.clock);
  expect(Object.keys(body.changes).sort()).toEqual([...SYNC_TABLE_NAMES].sort());
  for (const table of SYNC_TABLE_NAMES) {
    const { created, updated, deleted } = body.changes[table];
    expect(Object.keys(body.changes[table]).sort()).toEqual(['created', 'deleted', 'updated']);
    expect(created).toEqual([]);
    const live = new Map(SEED_LIVE[table].map((r) => [r.id, r]));
    for (const record of updated) expect(record).toEqual(live.get(record.id as string));
    for (const id of deleted) expect(SEED_TOMBSTONES[table]).toContain(id);
    const ids = [...updated.map((r) => r.id), ...deleted];
    expect(new Set(ids).size).toBe(ids.length);
  }
  if (since !== undefined && (since === 0 || seeded.issued.includes(since))) {
    const expected = seededChanges(seeded, since);
    for (const table of SYNC_TABLE_NAMES) {
      const { updated, deleted } = body.changes[table];
      expect({ table, since, updated: sorted(updated), deleted: [...deleted].sort() }).toEqual({
        table,
        since,
        updated: sorted(expected(table).updated),
        deleted: [...expected(table).deleted].sort(),
      });
    }
  }
}

describe('fuzzing the sync endpoints with hostile and broken input (e2e)', () => {
  let t: TestApp;
  let limits: Limits;

  beforeAll(async () => {
    t = await createTestApp();
    // One listening server for every request (supertest would otherwise listen per request).
    await t.app.listen(0, '127.0.0.1');
    const config = t.app.get(ConfigService);
    limits = {
      bodyBytes: config.get<number>('app.bodyLimit')!,
      maxRecords: config.get<number>('sync.maxPushRecords') ?? 20_000,
    };
  });
  afterAll(() => t?.close());

  describe('POST /api/v1/sync/push', () => {
    let victim: Seeded;
    beforeAll(async () => (victim = await seedDevice(t, true)));

    it(
      `refuses a valid push spoilt by one or more defects: 4xx JSON error, nothing changed (${RUNS} runs, seed ${SEED})`,
      async () => {
        await fc.assert(
          fc.asyncProperty(pushSpecArb(KNOWN), defectPlanArb, async (spec, plan) => {
            const push = buildPush(spec, KNOWN);
            const request = spoil(pushBody(push, victim.clock), plan, {
              push,
              clock: victim.clock,
              limits,
            });
            if (request.mustNotParse) {
              expect(() => JSON.parse(new TextDecoder().decode(request.body))).toThrow();
            }
            let call = t
              .http()
              .post(PUSH)
              .set(victim.auth)
              .set('Content-Type', request.contentType);
            if (request.contentEncoding)
              call = call.set('Content-Encoding', request.contentEncoding);
            const response = await call.serialize(asIs).send(request.body);

            expectStatus(response, request.allowed);
            expectErrorBody(response);
            if (response.status === 400) expectNamed(response, request.mustName);
            expect(await snapshotAccount(t, victim.accountId)).toEqual(victim.snapshot);
            expectNoPollution();
          }),
          { ...params<[PushSpec, DefectPlan]>(RUNS), examples: pushDefectExamples(KNOWN) },
        );
      },
      timeout(RUNS, 30),
    );

    it(
      `accepts those pushes before they are spoilt (${CONTROL_RUNS} runs, seed ${SEED})`,
      async () => {
        await fc.assert(
          fc.asyncProperty(pushSpecArb(KNOWN), async (spec) => {
            const device = await seedDevice(t, false);
            const text = toJsonText(pushBody(buildPush(spec, KNOWN), device.clock));
            const response = await t
              .http()
              .post(PUSH)
              .set(device.auth)
              .set('Content-Type', 'application/json')
              .send(text);
            expectStatus(response, [200]);
            expect(response.body).toEqual({ ok: true });
          }),
          params(CONTROL_RUNS),
        );
      },
      timeout(CONTROL_RUNS, 150),
    );

    it(
      `stores hostile but valid values, and a first-sync pull returns them exactly (${RUNS} runs, seed ${SEED})`,
      async () => {
        await fc.assert(
          fc.asyncProperty(pushSpecArb(), async (spec) => {
            const push = buildPush(spec);
            const device = await registerDevice(t, 'fuzz');
            // 1: at or before the device's registration, so valid for a device that has nothing.
            const text = toJsonText(pushBody(push, 1));
            const response = await t
              .http()
              .post(PUSH)
              .set(device.auth)
              .set('Content-Type', 'application/json')
              .send(text);
            expectStatus(response, [200]);
            expect(response.body).toEqual({ ok: true });

            const pulled = await syncApi(t, device).pullOk();
            expect(Number.isSafeInteger(pulled.timestamp) && pulled.timestamp > 0).toBe(true);
            for (const table of SYNC_TABLE_NAMES) {
              expect(pulled.changes[table].created).toEqual([]);
              expect(pulled.changes[table].deleted).toEqual([]);
              expect(sorted(pulled.changes[table].updated)).toEqual(sorted(push.expected[table]));
            }
            expectNoPollution();
          }),
          params(RUNS),
        );
      },
      timeout(RUNS, 60),
    );

    it('accepts a body of exactly the size limit and refuses one byte more with 413', async () => {
      const device = await registerDevice(t, 'fuzz limit');
      const g = game({ id: 'at-the-limit' });
      const text = JSON.stringify({ changes: { games: { created: [g] } }, last_pulled_at: 1 });
      const padded = (bytes: number) => text + ' '.repeat(bytes - Buffer.byteLength(text));
      const send = (body: string) =>
        t.http().post(PUSH).set(device.auth).set('Content-Type', 'application/json').send(body);

      const over = await send(padded(limits.bodyBytes + 1));
      expect(over.status).toBe(413);
      expectErrorBody(over);
      expect((await syncApi(t, device).pullOk()).changes.games.updated).toEqual([]);

      const atLimit = await send(padded(limits.bodyBytes));
      expect({ status: atLimit.status, body: atLimit.body }).toEqual({
        status: 200,
        body: { ok: true },
      });
      expect((await syncApi(t, device).pullOk()).changes.games.updated).toEqual([g]);
    });
  });

  describe('GET /api/v1/sync/pull', () => {
    let reader: Seeded;
    beforeAll(async () => (reader = await seedDevice(t, true)));

    it(
      `answers any query string with 200 or 400, never changing data (${RUNS} runs, seed ${SEED})`,
      async () => {
        await fc.assert(
          fc.asyncProperty(pullQueryArb(reader.issued), async (query) => {
            const qs = queryText(query);
            const response = await t
              .http()
              .get(qs ? `${PULL}?${qs}` : PULL)
              .set(reader.auth);

            const required = requiredPullStatus(query, reader.clock);
            expectStatus(response, required ? [required] : [200, 400]);
            if (response.status === 400) expectErrorBody(response);
            else {
              const since = expectedSince(query, reader.clock);
              expectSeededPull(response.body as PullBody, reader, since);
            }
            expect(await snapshotAccount(t, reader.accountId)).toEqual(reader.snapshot);
            expectNoPollution();
          }),
          {
            ...params<[PullQuery]>(RUNS),
            examples: pullQueryExamples(reader.issued).map((query) => [query] as [PullQuery]),
          },
        );
      },
      timeout(RUNS, 30),
    );
  });
});
