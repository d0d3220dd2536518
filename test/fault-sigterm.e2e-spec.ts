import fs from 'node:fs';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { freePort, makeTempDir } from './setup/test-database';
import { observer, PushGate, waitLockWaiters } from './utils/fault-gate';
import {
  Batch,
  buildBatch,
  checkBatches,
  describeResult,
  FaultDevice,
  faultScale,
  httpCall,
  HttpResult,
  pollUntil,
  pullAll,
  pushBatch,
  pushBody,
  registerFaultDevice,
  startUpload,
  UNTHROTTLED,
} from './utils/fault-kit';
import { ServerProcess } from './utils/server-process';

const SCALE = faultScale();
const RECORDS_PER_PUSH = 5_000;
/** Devices with one large push each, in flight (parked mid-transaction) when SIGTERM comes. */
const GATED_DEVICES = Math.max(2, Math.round(3 * SCALE));
/** Large pushes of one more device, queued behind each other on its clock row. */
const QUEUED_PUSHES = 2;
const IN_FLIGHT = GATED_DEVICES + QUEUED_PUSHES;
/** Once the last in-flight push is answered, the process is gone within this. */
const EXIT_WITHIN_MS = 3_000;
const GATE_KEY = 731_000_301;
const APP_NAME = `fault-sigterm-${process.pid}`;

type Push = { device: FaultDevice; batch: Batch; agent: http.Agent; result?: HttpResult };

/**
 * SIGTERM while large pushes are in flight (the real entry point, on the run's database). The
 * server must take no new work from then on, on a new connection or on a kept-alive one, let
 * every in-flight push finish (200, all of it stored), and exit 0.
 *
 * The in-flight pushes are held mid-transaction by a gate (see PushGate) until the test has
 * checked that new requests are refused, so "in flight" is a fact, not a race.
 */
describe('SIGTERM during large pushes (e2e, real process)', () => {
  const url = process.env.DATABASE_URL!;
  let dataDir: string;
  let base: string;
  let env: Record<string, string | undefined>;
  let watcher: Client;
  let gate: PushGate | undefined;
  const servers: ServerProcess[] = [];
  const agents: http.Agent[] = [];

  beforeAll(async () => {
    dataDir = makeTempDir('fault-sigterm-');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    env = {
      DATABASE_URL: url,
      PORT: String(port),
      NODE_ENV: 'test',
      JWT_SECRET: process.env.JWT_SECRET,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      // Room for every parked push plus the requests around them.
      DATABASE_POOL_SIZE: String(Math.max(10, IN_FLIGHT + 5)),
      // node-postgres names the app's sessions after it, so the test can find them.
      PGAPPNAME: APP_NAME,
      ...UNTHROTTLED,
    };
    watcher = await observer(url);
  });

  afterAll(async () => {
    await gate?.open().catch(() => undefined);
    for (const server of servers) {
      if (server.child.exitCode === null && server.child.signalCode === null) {
        server.kill('SIGKILL');
        await server.exit().catch(() => undefined);
      }
    }
    for (const agent of agents) agent.destroy();
    await gate?.remove();
    await watcher?.end();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses new work, finishes the in-flight pushes (all stored) and exits 0', async () => {
    const first = ServerProcess.start(env);
    servers.push(first);
    await first.waitFor(`${base}/health`);

    const gatedDevices: FaultDevice[] = [];
    for (let i = 0; i < GATED_DEVICES; i++)
      gatedDevices.push(await registerFaultDevice(base, `gated ${i}`));
    const queuedDevice = await registerFaultDevice(base, 'queued');
    const uploadDevice = await registerFaultDevice(base, 'uploading');
    const lateDevice = await registerFaultDevice(base, 'late');
    gate = await PushGate.close(url, GATE_KEY, [
      ...gatedDevices.map((device) => device.accountId),
      queuedDevice.accountId,
    ]);

    // The in-flight pushes, each on a kept-alive connection of its own, as real clients send them.
    const keepAlive = () => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      agents.push(agent);
      return agent;
    };
    const inFlight: Push[] = [
      ...gatedDevices.map((device, i) => ({
        device,
        batch: buildBatch(`gated${i}`, RECORDS_PER_PUSH),
        agent: keepAlive(),
      })),
      ...Array.from({ length: QUEUED_PUSHES }, (_, i) => ({
        device: queuedDevice,
        batch: buildBatch(`queued${i}`, RECORDS_PER_PUSH),
        agent: keepAlive(),
      })),
    ];
    const settled = Promise.all(
      inFlight.map(async (push) => {
        push.result = await pushBatch(base, push.device, push.batch, {
          agent: push.agent,
          timeoutMs: 30_000,
        });
      }),
    );
    // Every one of them is inside PostgreSQL: parked at the gate, or queued behind the
    // device's parked push.
    await waitLockWaiters(watcher, APP_NAME, IN_FLIGHT);
    // And one more in flight at the HTTP level: taken in by the server, its body not sent yet.
    const uploadBatch = buildBatch('uploading', RECORDS_PER_PUSH);
    const upload = startUpload(base, '/api/v1/sync/push', {
      token: uploadDevice.token,
      body: pushBody(uploadBatch, uploadDevice.since),
      timeoutMs: 30_000,
    });
    await upload.accepted;

    const sigtermAt = performance.now();
    first.kill('SIGTERM');
    // Once the server has acted on the signal, a new connection gets no 200 from it. (Until the
    // signal is handled, a request may legitimately still be served.)
    await pollUntil(
      'the server stops serving new connections after SIGTERM',
      async () => (await httpCall(base, 'GET', '/health', { timeoutMs: 3_000 })).status !== 200,
      { timeoutMs: 5_000, intervalMs: 20 },
    );
    const refusedAfterMs = Math.round(performance.now() - sigtermAt);

    // New work after SIGTERM: a push on a new connection, and one on the kept-alive connection
    // of an in-flight push (sent as soon as that push is answered).
    const freshBatch = buildBatch('late.fresh', 50);
    const fresh = await pushBatch(base, lateDevice, freshBatch, { timeoutMs: 5_000 });
    const health = await httpCall(base, 'GET', '/health', { timeoutMs: 5_000 });
    const reusedBatch = buildBatch('late.reused', 50);
    const reused = pushBatch(base, lateDevice, reusedBatch, {
      agent: inFlight[0].agent,
      timeoutMs: 15_000,
    });
    // The server is still there, waiting for its in-flight pushes.
    expect({ exitCode: first.child.exitCode, signal: first.child.signalCode }).toEqual({
      exitCode: null,
      signal: null,
    });
    expect(inFlight.filter((push) => push.result !== undefined)).toEqual([]);

    upload.send();
    const openedAt = performance.now();
    await gate.open();
    await settled;
    const uploaded = await upload.result;
    const answeredAt = performance.now();
    const exit = await first.exit(15_000);
    const exitedAt = performance.now();
    const late = await reused;

    // The in-flight pushes finish, then the process exits 0.
    expect(inFlight.map((p) => `${p.batch.tag}: ${describeResult(p.result!)}`)).toEqual(
      inFlight.map((p) => expect.stringMatching(new RegExp(`^${p.batch.tag}: 200 `))),
    );
    expect(`uploading: ${describeResult(uploaded)}`).toMatch(/^uploading: 200 /);
    expect(exit).toEqual({ code: 0, signal: null });

    // Restarted: every in-flight push is all there.
    const second = ServerProcess.start(env);
    servers.push(second);
    await second.waitFor(`${base}/health`);
    const verdicts: string[] = [];
    const inFlightBatches = [...inFlight.map((push) => push.batch), uploadBatch];
    for (const device of [...gatedDevices, queuedDevice, uploadDevice]) {
      const check = checkBatches((await pullAll(base, device.token)).changes, inFlightBatches);
      const mine = new Set(
        [...inFlight, { device: uploadDevice, batch: uploadBatch }]
          .filter((push) => push.device === device)
          .map((push) => push.batch.tag),
      );
      for (const [tag, { state, present, count }] of check.states) {
        if (mine.has(tag) && state !== 'full')
          verdicts.push(`${tag} (answered 200): ${state}, ${present}/${count}`);
        if (!mine.has(tag) && state !== 'absent') verdicts.push(`${tag} on another device`);
      }
      if (check.strays.length) verdicts.push(`unknown records, e.g. ${check.strays[0]}`);
    }
    expect(verdicts).toEqual([]);
    const lateCheck = checkBatches((await pullAll(base, lateDevice.token)).changes, [
      freshBatch,
      reusedBatch,
    ]);
    second.kill('SIGTERM');
    expect(await second.exit()).toEqual({ code: 0, signal: null });

    console.log(
      `fault-sigterm (FAULT_SCALE=${SCALE}): ${JSON.stringify({
        inFlight: inFlight.length + 1,
        recordsPerPush: RECORDS_PER_PUSH,
        refusedAfterMs,
        fresh: describeResult(fresh),
        reusedConnection: describeResult(late),
        uploading: describeResult(uploaded),
        inFlightDoneMs: Math.round(answeredAt - openedAt),
        exitAfterLastAnswerMs: Math.round(exitedAt - answeredAt),
      })}`,
    );

    // No new work after SIGTERM: a refused connection (or a 503), never an answer that took the
    // push on, and nothing of it stored. Kept-alive connections are no back door: nor do idle
    // ones hold the exit back (by the HTTP keep-alive timeout, 5 s, half of the shutdown grace).
    // (Checked last, so that a failure here still lets the checks above run.)
    const refused = (r: HttpResult) =>
      (r.status === 0 && r.error !== 'TIMEOUT') || r.status === 503;
    expect({
      fresh: refused(fresh) || describeResult(fresh),
      health: refused(health) || describeResult(health),
      reusedConnection: refused(late) || describeResult(late),
      freshStored: lateCheck.states.get(freshBatch.tag)!.state,
      reusedStored: lateCheck.states.get(reusedBatch.tag)!.state,
      strays: lateCheck.strays,
      exitsPromptly:
        exitedAt - answeredAt < EXIT_WITHIN_MS || `${Math.round(exitedAt - answeredAt)} ms`,
    }).toEqual({
      fresh: true,
      health: true,
      reusedConnection: true,
      freshStored: 'absent',
      reusedStored: 'absent',
      strays: [],
      exitsPromptly: true,
    });
  });
});
