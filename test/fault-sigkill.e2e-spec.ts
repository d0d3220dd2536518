import fs from 'node:fs';
import { Client } from 'pg';
import { freePort, makeTempDir } from './setup/test-database';
import { appBackends, observer, PushGate, waitBackendsGone } from './utils/fault-gate';
import {
  Batch,
  buildBatch,
  checkBatches,
  describeResult,
  FaultDevice,
  faultScale,
  HttpResult,
  pollUntil,
  pullAll,
  pushBatch,
  registerFaultDevice,
  UNTHROTTLED,
} from './utils/fault-kit';
import { ServerProcess } from './utils/server-process';

const SCALE = faultScale();
const RECORDS_PER_PUSH = 5_000;
/** Pushes sent at once for one device: they queue behind each other on the device's clock row. */
const QUEUED_PUSHES = Math.max(2, Math.round(3 * SCALE));
/** Devices with one push each, running freely. */
const FREE_DEVICES = Math.max(1, Math.round(2 * SCALE));
/**
 * Devices whose push is parked mid-write, inside its transaction, when the process dies (the
 * first one's push also lists a deletion).
 */
const GATED_DEVICES = 2;
const GATE_KEY = 731_000_201;
const APP_NAME = `fault-sigkill-${process.pid}`;

type Push = {
  role: 'queued' | 'free' | 'gated';
  device: FaultDevice;
  batch: Batch;
  /** Ids of records the server never had, listed as deleted (a no-op). */
  deletedIds?: string[];
  result?: HttpResult;
};

/**
 * `kill -9` of the real server process (src/main.ts on the run's database) while large pushes
 * are under way. Whatever moment the kill hits, each push must be in the database entirely or
 * not at all: PostgreSQL rolls back the transactions of the dead process, never commits half.
 */
describe('SIGKILL during large pushes (e2e, real process)', () => {
  const url = process.env.DATABASE_URL!;
  let dataDir: string;
  let base: string;
  let env: Record<string, string | undefined>;
  let watcher: Client;
  let gate: PushGate | undefined;
  const servers: ServerProcess[] = [];

  beforeAll(async () => {
    dataDir = makeTempDir('fault-sigkill-');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = {
      DATABASE_URL: url,
      PORT: String(port),
      NODE_ENV: 'test',
      JWT_SECRET: process.env.JWT_SECRET,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      // node-postgres names the app's sessions after it, so the test can find them.
      PGAPPNAME: APP_NAME,
      ...UNTHROTTLED,
    };
    watcher = await observer(url);
  });

  afterAll(async () => {
    for (const server of servers) {
      if (server.child.exitCode === null && server.child.signalCode === null) {
        server.kill('SIGKILL');
        await server.exit().catch(() => undefined);
      }
    }
    await gate?.open().catch(() => undefined);
    await gate?.remove();
    await watcher?.end();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('leaves every push entirely there or not at all, and the restarted server carries on', async () => {
    const first = ServerProcess.start(env);
    servers.push(first);
    await first.waitFor(`${base}/health`);

    const queuedDevice = await registerFaultDevice(base, 'queued');
    const freeDevices: FaultDevice[] = [];
    for (let i = 0; i < FREE_DEVICES; i++)
      freeDevices.push(await registerFaultDevice(base, `free ${i}`));
    const gatedDevices: FaultDevice[] = [];
    for (let i = 0; i < GATED_DEVICES; i++)
      gatedDevices.push(await registerFaultDevice(base, `gated ${i}`));
    gate = await PushGate.close(
      url,
      GATE_KEY,
      gatedDevices.map((device) => device.accountId),
    );

    const pushes: Push[] = [
      ...gatedDevices.map((device, i) => ({
        role: 'gated' as const,
        device,
        batch: buildBatch(`gated${i}`, RECORDS_PER_PUSH),
        deletedIds: i === 0 ? [`gated${i}.never-had`] : undefined,
      })),
      ...Array.from({ length: QUEUED_PUSHES }, (_, i) => ({
        role: 'queued' as const,
        device: queuedDevice,
        batch: buildBatch(`queued${i}`, RECORDS_PER_PUSH),
      })),
      ...freeDevices.map((device, i) => ({
        role: 'free' as const,
        device,
        batch: buildBatch(`free${i}`, RECORDS_PER_PUSH),
      })),
    ];
    const settled = Promise.all(
      pushes.map(async (push) => {
        push.result = await pushBatch(base, push.device, push.batch, {
          timeoutMs: 30_000,
          deletedIds: push.deletedIds,
        });
      }),
    );

    // Kill once the gated pushes are parked mid-write (written in part, uncommitted) and
    // a quarter of the others have answered 200, while the rest are still on their way.
    await gate.waitParked(GATED_DEVICES);
    const killAfter = Math.ceil((QUEUED_PUSHES + FREE_DEVICES) / 4);
    await pollUntil(
      `${killAfter} push(es) answered 200`,
      async () => pushes.filter((push) => push.result?.status === 200).length >= killAfter,
      { timeoutMs: 20_000, intervalMs: 10 },
    );
    const { rows: busy } = await watcher.query<{ n: string }>(
      `SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1 AND xact_start IS NOT NULL`,
      [APP_NAME],
    );
    first.kill('SIGKILL');
    expect(await first.exit()).toEqual({ code: null, signal: 'SIGKILL' });
    const pids = await appBackends(watcher, APP_NAME);
    await settled;

    // PostgreSQL ends the dead process's sessions and rolls back what they had not committed
    // (the parked ones once the gate lets them see their client is gone).
    await gate.open();
    await waitBackendsGone(watcher, pids);

    // Every push got 200 or lost its connection; none hung, none got an error status.
    const answers = pushes.map((p) => `${p.batch.tag}: ${describeResult(p.result!)}`);
    const unexpected = pushes.filter(
      (p) => p.result!.status !== 200 && (p.result!.status !== 0 || p.result!.error === 'TIMEOUT'),
    );
    expect(unexpected.map((p) => `${p.batch.tag}: ${describeResult(p.result!)}`)).toEqual([]);

    const second = ServerProcess.start(env);
    servers.push(second);
    await second.waitFor(`${base}/health`);

    // Pull every device: all or nothing, and all of it for every push that answered 200.
    const verdicts: string[] = [];
    const states = new Map<string, string>();
    for (const device of [queuedDevice, ...freeDevices, ...gatedDevices]) {
      const mine = pushes.filter((p) => p.device === device);
      const check = checkBatches(
        (await pullAll(base, device.token)).changes,
        mine.map((p) => p.batch),
      );
      if (check.strays.length) verdicts.push(`unknown records, e.g. ${check.strays[0]}`);
      for (const push of mine) {
        const { state, present, count } = check.states.get(push.batch.tag)!;
        states.set(push.batch.tag, state);
        const answered = push.result!.status === 200;
        // A transaction whose process died before its COMMIT is rolled back: the parked ones
        // wrote part of their rows and must have left none.
        const allowed =
          push.role === 'gated'
            ? state === 'absent'
            : answered
              ? state === 'full'
              : state !== 'partial';
        if (!allowed)
          verdicts.push(
            `${push.batch.tag} (${push.role}, ${describeResult(push.result!)}): ${state}, ${present}/${count} records`,
          );
      }
    }
    expect(verdicts).toEqual([]);
    expect(pushes.filter((p) => p.result!.status === 200).length).toBeGreaterThanOrEqual(1);

    // The restarted server serves the same devices: nothing is left locked or skewed.
    for (const [i, device] of [queuedDevice, ...freeDevices, ...gatedDevices].entries()) {
      const after = buildBatch(`after${i}`, 50);
      const pushed = await pushBatch(base, device, after, { timeoutMs: 10_000 });
      expect(`${after.tag}: ${describeResult(pushed)}`).toMatch(/^after\d+: 200 /);
      const check = checkBatches((await pullAll(base, device.token)).changes, [after]);
      expect(check.states.get(after.tag)!.state).toBe('full');
    }
    second.kill('SIGTERM');
    expect((await second.exit()).code).toBe(0);

    console.log(
      `fault-sigkill (FAULT_SCALE=${SCALE}): ${JSON.stringify({
        pushes: pushes.length,
        recordsPerPush: RECORDS_PER_PUSH,
        answered200: pushes.filter((p) => p.result!.status === 200).length,
        inTransactionAtKill: Number(busy[0].n),
        full: [...states.values()].filter((s) => s === 'full').length,
        absent: [...states.values()].filter((s) => s === 'absent').length,
      })}\n${answers.join('\n')}`,
    );
  });
});
