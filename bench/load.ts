/**
 * Load: virtual devices that sync as the app does (pull with the last timestamp, then push 1-5
 * new records with last_pulled_at = the timestamp just pulled). A cycle is a pull and a push,
 * both 2xx. Latencies are per request (a pull or a push), as autocannon times them.
 */
import autocannon, { SequenceStep } from 'autocannon';
import * as api from './api';
import { IdMaker, buildGames, childRecords, toChanges } from './records';
import { percentile } from './stats';

export type VirtualDevice = api.Device & {
  lastPulledAt: number;
  /** The id of record 0 of each table of the device's game: the parents of what it pushes. */
  game: Record<string, string>;
};

/** The virtual devices of one server. */
export type Fleet = { url: string; devices: VirtualDevice[]; ids: IdMaker };

/**
 * Registers `count` devices, two to an account (a phone, then a tablet paired with it), and gives
 * each a game of its own (10 records), as an app in use would have. A device's pulls bring its
 * pair's pushes too.
 */
export const prepareFleet = async (url: string, count: number, ids: IdMaker): Promise<Fleet> => ({
  url,
  ids,
  devices: (
    await api.inBatches(Math.ceil(count / 2), async (i) => {
      const phone = await api.register(url, `bench-load-${i}`);
      const tablet = await api.register(url, `bench-load-${i}-tablet`, phone);
      return [await withGame(url, phone, ids), await withGame(url, tablet, ids)];
    })
  )
    .flat()
    .slice(0, count),
});

async function withGame(url: string, device: api.Device, ids: IdMaker): Promise<VirtualDevice> {
  const first = await api.pullOk(url, device);
  const records = buildGames(1, 3, ids);
  await api.pushOk(url, device, api.pushBody(toChanges(records), first.timestamp));
  const { timestamp } = await api.pullOk(url, device, first.timestamp);
  const game = Object.fromEntries(
    Object.entries(records).map(([table, list]) => [table, String(list[0].id)]),
  );
  return { ...device, lastPulledAt: timestamp, game };
}

/** A push of 1 to 5 new records in the device's game. */
function smallPush(device: VirtualDevice, ids: IdMaker, lastPulledAt: number): string {
  const records = childRecords(1 + Math.floor(Math.random() * 5), device.game, ids);
  return api.pushBody(toChanges(records), lastPulledAt);
}

/** `failures`: failed requests by status (non-2xx), `errors` (no answer), `timeouts`, ... */
const result = (
  seconds: number,
  cycles: number,
  failures: Record<string, number>,
  latencies: number[],
) => ({
  cycles,
  cyclesPerSecond: cycles / seconds,
  failures,
  requestLatencyMs: {
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: percentile(latencies, 100),
  },
  /** Every request's, for a caller that pools several runs (not written to results.json). */
  latencies,
});
export type LoadResult = ReturnType<typeof result>;

/**
 * Closed loop, on autocannon: each device syncs again as soon as its cycle ends, for `seconds`.
 * One connection is one device, with its own request sequence whose callbacks carry the pull's
 * timestamp into the push.
 */
export async function closedLoop(fleet: Fleet, seconds: number): Promise<LoadResult> {
  const { url, devices, ids } = fleet;
  // Counted over exactly `seconds` from the start: autocannon ends at a sample tick after it.
  const startedAt = performance.now();
  const inWindow = () => performance.now() - startedAt <= seconds * 1000;
  let cycles = 0;
  const sequence = (device: VirtualDevice): SequenceStep[] => {
    let pulledAt = 0; // the timestamp this cycle's pull answered; 0 when it failed
    const headers = { authorization: `Bearer ${device.token}` };
    return [
      {
        setupRequest: (req) => ({
          ...req,
          method: 'GET',
          path: api.pullPath(device.lastPulledAt),
          headers,
        }),
        onResponse: (status, body) =>
          (pulledAt = status === 200 ? (JSON.parse(body) as api.PullAnswer).timestamp : 0),
      },
      {
        setupRequest: (req) => ({
          ...req,
          method: 'POST',
          path: api.PUSH_PATH,
          headers: { ...headers, 'content-type': 'application/json' },
          body: smallPush(device, ids, pulledAt || device.lastPulledAt),
        }),
        onResponse: (status) => {
          if (status !== 200 || !pulledAt) return;
          device.lastPulledAt = pulledAt;
          if (inWindow()) cycles++;
        },
      },
    ];
  };
  const latencies: number[] = [];
  let next = 0;
  const instance = autocannon({
    url,
    connections: devices.length,
    duration: seconds,
    sampleInt: 100, // ends within 0.1 s of `duration`
    setupClient: (client) => client.setRequests(sequence(devices[next++])),
  });
  instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => {
    if (inWindow()) latencies.push(ms);
  });
  const run = await instance;
  const failures = Object.fromEntries(
    Object.entries(run.statusCodeStats)
      .filter(([status]) => !status.startsWith('2'))
      .map(([status, { count }]) => [status, count]),
  );
  if (run.errors > run.timeouts) failures.errors = run.errors - run.timeouts;
  if (run.timeouts) failures.timeouts = run.timeouts;
  return result(seconds, cycles, failures, latencies);
}

/**
 * Open loop: cycle i is due at i / `cyclesPerSecond` and runs on an idle device (a phone does not
 * sync twice at once); a cycle due while every device is busy counts as failed ('not started').
 * Not autocannon's `overallRate`: it gives each connection a budget per second, renewed for all
 * connections at the same instant, so the requests come in bursts at the top of each second
 * (at 100 cycles/s, 40% of the closed loop's rate on a busy machine, request p50 181-215 ms
 * against 8-14 ms for this schedule, in two alternating runs each).
 */
export async function openLoop(fleet: Fleet, cyclesPerSecond: number, seconds: number) {
  const { url, devices, ids } = fleet;
  const idle = [...devices];
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  const fail = (what: string | number) => void (failures[what] = (failures[what] ?? 0) + 1);
  let cycles = 0;
  const cycle = async (device: VirtualDevice) => {
    const pulled = await api.pull(url, device, device.lastPulledAt);
    latencies.push(pulled.ms);
    if (pulled.status !== 200) return fail(pulled.status);
    const { timestamp } = JSON.parse(pulled.body.toString()) as api.PullAnswer;
    const pushed = await api.push(url, device, smallPush(device, ids, timestamp));
    latencies.push(pushed.ms);
    if (pushed.status !== 200) return fail(pushed.status);
    device.lastPulledAt = timestamp;
    cycles++;
  };
  const running = new Set<Promise<void>>();
  const startedAt = performance.now();
  for (let i = 0; i < cyclesPerSecond * seconds; i++) {
    const wait = startedAt + (i * 1000) / cyclesPerSecond - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const device = idle.shift();
    if (!device) {
      fail('not started');
      continue;
    }
    const run: Promise<void> = cycle(device)
      .catch(() => fail('errors'))
      .finally(() => (idle.push(device), running.delete(run)));
    running.add(run);
  }
  await Promise.all(running);
  return result(seconds, cycles, failures, latencies); // the schedule's window
}
