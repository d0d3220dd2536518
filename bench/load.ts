/**
 * Load: virtual devices that sync as the app does (pull with the last timestamp, then push 1-5
 * new records with last_pulled_at = the timestamp just pulled), driven by autocannon. One
 * autocannon connection is one device: each gets its own request sequence (pull, push), whose
 * callbacks carry the pull's timestamp into the push.
 */
import autocannon, { SequenceStep } from 'autocannon';
import { Device, PUSH_PATH, pull, pullOk, pullPath, push, pushBody, pushOk, register } from './api';
import {
  CHILD_TABLES,
  IdMaker,
  Records,
  buildGames,
  emptyRecords,
  makeRecord,
  toChanges,
} from './records';
import { percentile } from './stats';

export type VirtualDevice = Device & {
  lastPulledAt: number;
  /** The id of record 0 of each table of the device's game: the parents of what it pushes. */
  links: Record<string, string>;
  gameId: string;
};

/** Registers `count` devices and gives each a game (10 records), as an app in use would have. */
export async function prepareDevices(url: string, count: number, ids: IdMaker) {
  const prepareOne = async (i: number): Promise<VirtualDevice> => {
    const device = await register(url, `bench-load-${i}`);
    const first = await pullOk(url, device);
    const game = buildGames(1, 3, ids);
    await pushOk(url, device, pushBody(toChanges(game), first.timestamp));
    const { timestamp } = await pullOk(url, device, first.timestamp);
    const links = Object.fromEntries(
      Object.entries(game).map(([table, list]) => [table, String(list[0].id)]),
    );
    return { ...device, lastPulledAt: timestamp, links, gameId: Object.values(links)[0] };
  };
  const devices: VirtualDevice[] = [];
  for (let i = 0; i < count; i += 10) {
    const batch = Array.from({ length: Math.min(10, count - i) }, (_, k) => prepareOne(i + k));
    devices.push(...(await Promise.all(batch)));
  }
  return devices;
}

/** 1 to 5 new records in the device's game (a player, a round, a score, ... in registry order). */
export function smallPush(device: VirtualDevice, ids: IdMaker): Records {
  const records = emptyRecords();
  const count = 1 + Math.floor(Math.random() * 5);
  for (let i = 0; i < count; i++) {
    const table = CHILD_TABLES[i % CHILD_TABLES.length];
    records[table.name].push(makeRecord(table, ids.next(), i, device.links, device.gameId));
  }
  return records;
}

export type LoadResult = {
  seconds: number;
  /** Cycles whose pull and push both answered 2xx. */
  cycles: number;
  cyclesPerSecond: number;
  /** Failed requests by status (non-2xx), `errors` (no answer), `timeouts`, `not started`. */
  failures: Record<string, number>;
  /** Per request (a pull or a push), not per cycle: that is what autocannon times. */
  requestLatencyMs: { p50: number; p99: number; max: number };
};

const result = (
  seconds: number,
  cycles: number,
  failures: LoadResult['failures'],
  latencies: number[],
): LoadResult => ({
  seconds,
  cycles,
  cyclesPerSecond: cycles / seconds,
  failures,
  requestLatencyMs: {
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: percentile(latencies, 100),
  },
});

/** Closed loop: each device syncs again as soon as its cycle ends, for `seconds`. */
export async function closedLoop(
  url: string,
  devices: VirtualDevice[],
  seconds: number,
  ids: IdMaker,
): Promise<LoadResult> {
  // Cycles are counted over exactly `seconds` from the start: autocannon stops at its next
  // sample tick after `duration`, and two loads side by side (bench:ab) must share one window.
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
          path: pullPath(device.lastPulledAt),
          headers,
        }),
        onResponse: (status, body) => {
          pulledAt = status === 200 ? (JSON.parse(body) as { timestamp: number }).timestamp : 0;
        },
      },
      {
        setupRequest: (req) => ({
          ...req,
          method: 'POST',
          path: PUSH_PATH,
          headers: { ...headers, 'content-type': 'application/json' },
          body: pushBody(toChanges(smallPush(device, ids)), pulledAt || device.lastPulledAt),
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
    // One connection is one device, with its own sequence.
    setupClient: (client) => client.setRequests(sequence(devices[next++])),
  });
  instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => {
    if (inWindow()) latencies.push(ms);
  });
  const run = await instance;
  const failures: Record<string, number> = {};
  for (const [status, { count }] of Object.entries(run.statusCodeStats)) {
    if (!status.startsWith('2')) failures[status] = count;
  }
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
export async function openLoop(
  url: string,
  devices: VirtualDevice[],
  cyclesPerSecond: number,
  seconds: number,
  ids: IdMaker,
): Promise<LoadResult> {
  const idle = [...devices];
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  const fail = (what: string | number) => void (failures[what] = (failures[what] ?? 0) + 1);
  let cycles = 0;
  const cycle = async (device: VirtualDevice) => {
    const pulled = await pull(url, device, device.lastPulledAt);
    latencies.push(pulled.ms);
    if (pulled.status !== 200) return fail(pulled.status);
    const { timestamp } = JSON.parse(pulled.body.toString()) as { timestamp: number };
    const pushed = await push(url, device, pushBody(toChanges(smallPush(device, ids)), timestamp));
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
      .catch(() => void fail('errors'))
      .finally(() => (idle.push(device), running.delete(run)));
    running.add(run);
  }
  await Promise.all(running);
  return result((performance.now() - startedAt) / 1000, cycles, failures, latencies);
}
