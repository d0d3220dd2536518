import fs from 'node:fs';
import { Server } from 'node:http';
import { AddressInfo } from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { PushWriter } from '../src/sync/push/push-writer';
import { freePort, makeTempDir } from './setup/test-database';
import { OwnCluster } from './utils/fault-cluster';
import { observer, PushGate } from './utils/fault-gate';
import {
  Batch,
  buildBatch,
  checkBatches,
  describeResult,
  FaultDevice,
  faultScale,
  httpCall,
  HttpResult,
  jsonOf,
  pollUntil,
  pullAll,
  pushBatch,
  registerFaultDevice,
  UNTHROTTLED,
} from './utils/fault-kit';
import { createTestApp, TestApp } from './utils/test-app';

const SCALE = faultScale();
/** The cluster is stopped once this many pushes of the load have answered 200. */
const PUSHES_BEFORE_STOP = Math.round(12 * SCALE);
/** Requests each worker still sends once the database is gone. */
const REQUESTS_PER_WORKER_DURING_OUTAGE = Math.max(3, Math.round(3 * SCALE));
const WORKERS = 6;
const LOAD_DEVICES = 4;
const BATCH_RECORDS = 60;
/** Bound on every answer once the database is going away: a 503, quickly, never a hung socket. */
const ANSWER_WITHIN_MS = 3_000;
const CLIENT_TIMEOUT_MS = 8_000;
const GATE_KEY = 731_000_101;

type Call = { kind: 'push' | 'pull'; device: number; batch?: Batch; result: HttpResult };

/**
 * PostgreSQL goes away in the middle of a load of pushes and pulls, then comes back. The app
 * (in-process, on a throwaway cluster of this test's own, never the shared server) must answer
 * 503 with Retry-After at once while it is gone, serve again without a restart once it is back,
 * and never leave a push half-applied.
 */
describe('PostgreSQL stops during load (e2e, own embedded cluster)', () => {
  const ENV_KEYS = [
    'DATABASE_URL',
    'DATABASE_CONNECT_TIMEOUT_MS',
    'THROTTLE_DEVICE_LIMIT',
    'THROTTLE_REGISTER_LIMIT',
  ] as const;
  const savedEnv = Object.fromEntries(ENV_KEYS.map((key) => [key, process.env[key]]));
  let dir: string;
  let dataDir: string;
  let pgPort: number;
  let cluster: OwnCluster | undefined;
  let t: TestApp | undefined;
  let base: string;
  let gate: PushGate | undefined;
  let applySpy: jest.SpyInstance | undefined;

  beforeAll(async () => {
    dir = makeTempDir('fault-db-down-');
    dataDir = path.join(dir, 'pg');
    pgPort = await freePort();
    cluster = await OwnCluster.start({ dataDir, port: pgPort });
    Object.assign(process.env, {
      DATABASE_URL: cluster.url,
      DATABASE_CONNECT_TIMEOUT_MS: '1000',
      ...UNTHROTTLED,
    });
    // Starting the app runs the migrations on the fresh cluster.
    t = await createTestApp();
    // Every 503 would log an expected "Database unavailable" warning; errors (500s) still show.
    t.app.useLogger(['error']);
    await t.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    applySpy?.mockRestore();
    await gate?.remove().catch(() => undefined);
    await t?.close();
    await cluster?.stop();
    for (const key of ENV_KEYS) {
      if (savedEnv[key] === undefined) delete process.env[key];
      else process.env[key] = savedEnv[key];
    }
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 quickly while it is down, serves again once it is back, never half-applies a push', async () => {
    const devices: FaultDevice[] = [];
    for (let d = 0; d < LOAD_DEVICES; d++)
      devices.push(await registerFaultDevice(base, `load ${d}`));
    const parkedDevice = await registerFaultDevice(base, 'parked');
    const pausedDevice = await registerFaultDevice(base, 'paused');
    const batches: Batch[][] = devices.map(() => []);

    // One push is held mid-write, uncommitted (every table but the last written, the last not)
    // when the database stops: the deterministic "in flight" case.
    gate = await PushGate.close(cluster!.url, GATE_KEY, [parkedDevice.accountId]);
    const parkedBatch = buildBatch('parked.b0', BATCH_RECORDS);
    const parkedPush = pushBatch(base, parkedDevice, parkedBatch, { timeoutMs: CLIENT_TIMEOUT_MS });
    await gate.waitParked(1);

    // Another is paused between two of its statements (clock locked and rows read, nothing
    // written yet): its session is idle in transaction, as it is whenever the app computes
    // between statements. Only the app can hold it there, hence the spy on its writer. It lists
    // a deletion (of a record the server never had).
    const apply = PushWriter.prototype.apply;
    let pauseNext = true;
    let pauseReached!: () => void;
    const pausing = new Promise<void>((resolve) => (pauseReached = resolve));
    let resume!: () => void;
    const resumed = new Promise<void>((resolve) => (resume = resolve));
    applySpy = jest.spyOn(PushWriter.prototype, 'apply').mockImplementation(async function (
      this: PushWriter,
      ...args
    ) {
      if (pauseNext) {
        pauseNext = false;
        pauseReached();
        await resumed;
      }
      return apply.apply(this, args);
    });
    const pausedBatch = buildBatch('paused.b0', BATCH_RECORDS);
    const pausedPush = pushBatch(base, pausedDevice, pausedBatch, {
      timeoutMs: CLIENT_TIMEOUT_MS,
      deletedIds: ['paused.never-had'],
    });
    await Promise.race([
      pausing,
      pausedPush.then((r) => Promise.reject(new Error(`paused push: ${describeResult(r)}`))),
    ]);
    const watcher = await observer(cluster!.url);
    const { rows: idle } = await watcher.query(
      `SELECT 1 FROM pg_stat_activity WHERE state = 'idle in transaction' AND datname = current_database()`,
    );
    expect(idle).toHaveLength(1);

    // The load: workers pushing new batches (and pulling now and then) until told to stop.
    const calls: Call[] = [];
    let pushesOk = 0;
    let reachedTarget!: () => void;
    const targetReached = new Promise<void>((resolve) => (reachedTarget = resolve));
    let stoppedAt: number | undefined = undefined;
    let abort = false;
    const worker = async (w: number) => {
      let outageRequests = 0;
      for (let i = 0; !abort && outageRequests < REQUESTS_PER_WORKER_DURING_OUTAGE; i++) {
        if (stoppedAt !== undefined) outageRequests++;
        const d = (w + i) % LOAD_DEVICES;
        const device = devices[d];
        if (i % 4 === 3) {
          const result = await httpCall(base, 'GET', '/api/v1/sync/pull', {
            token: device.token,
            timeoutMs: CLIENT_TIMEOUT_MS,
          });
          calls.push({ kind: 'pull', device: d, result });
          continue;
        }
        const batch = buildBatch(`d${d}.w${w}.b${i}`, BATCH_RECORDS);
        batches[d].push(batch);
        const result = await pushBatch(base, device, batch, { timeoutMs: CLIENT_TIMEOUT_MS });
        calls.push({ kind: 'push', device: d, batch, result });
        if (result.status === 200 && ++pushesOk >= PUSHES_BEFORE_STOP) reachedTarget();
      }
    };
    const load = Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));

    const timeout = setTimeout(() => (abort = true), 20_000);
    await Promise.race([targetReached, load]);
    clearTimeout(timeout);
    expect(pushesOk).toBeGreaterThanOrEqual(PUSHES_BEFORE_STOP);

    // PostgreSQL stops (fast shutdown: sessions cut, open transactions rolled back) mid-load.
    const stopStartedAt = performance.now();
    await cluster!.stop();
    stoppedAt = performance.now();
    await load;
    const parked = await parkedPush;
    const resumedAt = performance.now();
    resume();
    const paused = await pausedPush;
    applySpy.mockRestore();
    await watcher.end().catch(() => undefined);

    // While it is down: health, registration, pulls and pushes all answer 503 at once.
    const health = await httpCall(base, 'GET', '/health', { timeoutMs: CLIENT_TIMEOUT_MS });
    const register = await httpCall(base, 'POST', '/api/v1/devices/register', {
      body: { name: 'during outage' },
      timeoutMs: CLIENT_TIMEOUT_MS,
    });
    const outageStats = {
      stopMs: Math.round(stoppedAt - stopStartedAt),
      calls: calls.length,
      pushesOk: calls.filter((c) => c.kind === 'push' && c.result.status === 200).length,
      pushes503: calls.filter((c) => c.kind === 'push' && c.result.status === 503).length,
      statusesFromTheStopOn: calls
        .filter((c) => c.result.endedAt >= stopStartedAt)
        .reduce<Record<string, number>>((tally, { result }) => {
          const key = String(result.status || result.error);
          tally[key] = (tally[key] ?? 0) + 1;
          return tally;
        }, {}),
      slowestAfterStopMs: Math.round(
        Math.max(
          ...calls
            .filter((c) => c.result.endedAt >= stopStartedAt)
            .map((c) => c.result.endedAt - Math.max(c.result.startedAt, stopStartedAt)),
        ),
      ),
    };

    const problems: string[] = [];
    /** How long an answer took from `since` (or from being sent, if later). */
    const tookSince = (r: HttpResult, since: number) => r.endedAt - Math.max(since, r.startedAt);
    /** A 503 with Retry-After, answered within the bound. */
    const expect503 = (what: string, r: HttpResult, since = r.startedAt) => {
      const took = tookSince(r, since);
      if (r.status !== 503 || took > ANSWER_WITHIN_MS || r.headers['retry-after'] === undefined)
        problems.push(
          `${what}: expected a 503 with Retry-After within ${ANSWER_WITHIN_MS} ms, got ` +
            `${describeResult(r)} (${Math.round(took)} ms after it could answer)`,
        );
      else if (jsonOf(r).statusCode !== 503) problems.push(`${what}: body ${r.text}`);
    };
    for (const { kind, device, batch, result } of calls) {
      const what = `${kind} ${batch?.tag ?? `device ${device}`}`;
      if (result.startedAt >= stoppedAt) expect503(what, result);
      else if (result.endedAt >= stopStartedAt) {
        // Under way while PostgreSQL was stopping: it either made it (200) or answers 503.
        if (
          ![200, 503].includes(result.status) ||
          tookSince(result, stopStartedAt) > ANSWER_WITHIN_MS
        )
          problems.push(`${what} (during the stop): ${describeResult(result)}`);
        else if (result.status === 503) expect503(what, result, stopStartedAt);
      } else if (result.status !== 200) {
        problems.push(`${what} (before the stop): ${describeResult(result)}`);
      }
    }
    expect503('parked push', parked, stopStartedAt);
    expect503('paused push', paused, resumedAt);
    expect503('GET /health', health);
    expect503('POST /devices/register', register);
    // The outage really hit the load: pushes were refused, not just never sent.
    expect(outageStats.pushes503).toBeGreaterThanOrEqual(WORKERS);
    // No hanging sockets: every connection the load opened is closed.
    const server = t!.app.getHttpServer() as Server;
    await pollUntil(
      'HTTP connections closed',
      () =>
        new Promise<boolean>((resolve) =>
          server.getConnections((error, count) => resolve(!error && count === 0)),
        ),
      { timeoutMs: 2_000 },
    );

    // PostgreSQL comes back on the same folder and port; the same app instance recovers.
    const restartedAt = performance.now();
    cluster = await OwnCluster.start({ dataDir, port: pgPort });
    await pollUntil(
      '/health 200 after the restart',
      async () => (await httpCall(base, 'GET', '/health', { timeoutMs: 3_000 })).status === 200,
      { timeoutMs: 15_000, intervalMs: 100 },
    );
    const healthyAfterMs = Math.round(performance.now() - restartedAt);
    const recoveryBatches = new Map<FaultDevice, Batch>();
    let refusedAfterHealthy = 0;
    for (const [d, device] of [...devices, parkedDevice, pausedDevice].entries()) {
      const batch = buildBatch(`d${d}.recovered`, BATCH_RECORDS);
      recoveryBatches.set(device, batch);
      await pollUntil(
        `push 200 for device ${d} after the restart`,
        async () => {
          const result = await pushBatch(base, device, batch, { timeoutMs: 3_000 });
          if (result.status !== 200) refusedAfterHealthy++;
          return result.status === 200;
        },
        { timeoutMs: 10_000, intervalMs: 100 },
      );
    }

    // Every push that answered 200 is all there; every other one is all there or not at all.
    const verdicts: string[] = [];
    const counts = { okFull: 0, failedFull: 0, failedAbsent: 0 };
    for (const [d, device] of devices.entries()) {
      const { changes } = await pullAll(base, device.token);
      const recovery = recoveryBatches.get(device)!;
      const check = checkBatches(changes, [...batches[d], recovery]);
      if (check.strays.length) verdicts.push(`device ${d}: unknown records ${check.strays[0]}`);
      if (check.states.get(recovery.tag)!.state !== 'full')
        verdicts.push(`${recovery.tag} (answered 200): ${check.states.get(recovery.tag)!.state}`);
      for (const call of calls.filter((c) => c.kind === 'push' && c.device === d)) {
        const { state, present, count, mismatched } = check.states.get(call.batch!.tag)!;
        const ok = call.result.status >= 200 && call.result.status < 300;
        if (ok && state === 'full') counts.okFull++;
        else if (!ok && state === 'full') counts.failedFull++;
        else if (!ok && state === 'absent') counts.failedAbsent++;
        else
          verdicts.push(
            `${call.batch!.tag} answered ${call.result.status || call.result.error}: ${state} ` +
              `(${present}/${count} records${mismatched.length ? `, ${mismatched[0]} differs` : ''})`,
          );
      }
    }
    // The parked and the paused push died with their sessions: nothing of them is stored.
    for (const [device, batch] of [
      [parkedDevice, parkedBatch],
      [pausedDevice, pausedBatch],
    ] as const) {
      const check = checkBatches((await pullAll(base, device.token)).changes, [
        batch,
        recoveryBatches.get(device)!,
      ]);
      if (check.states.get(batch.tag)!.state !== 'absent')
        verdicts.push(`${batch.tag}: ${check.states.get(batch.tag)!.state}`);
      if (check.states.get(recoveryBatches.get(device)!.tag)!.state !== 'full')
        verdicts.push(`${recoveryBatches.get(device)!.tag} (answered 200): not full`);
      if (check.strays.length) verdicts.push(`${batch.tag}: unknown records ${check.strays[0]}`);
    }
    expect(verdicts).toEqual([]);
    expect(counts.okFull).toBe(outageStats.pushesOk);
    expect(counts.failedAbsent).toBeGreaterThanOrEqual(1);
    console.log(
      `fault-database-down (FAULT_SCALE=${SCALE}): ${JSON.stringify({
        ...outageStats,
        healthyAfterMs,
        refusedAfterHealthy,
        ...counts,
      })}`,
    );
    // Checked last, so that recovery and all-or-nothing are verified even when this fails.
    expect(problems).toEqual([]);
  });
});
