import { Client } from 'pg';
import { ApiClient, Device, PullResponse, pushBody } from './api';
import { sleep } from './app-process';
import { CpuShare, measureCpu } from './proc';
import { buildGames, Changes, changesOf, IdMaker, WireRecord } from './records';
import { percentile } from './stats';

/**
 * The load driver: virtual devices that sync the way the app does (pull with the last timestamp,
 * then push a few new records with last_pulled_at = the timestamp just pulled), in a closed loop
 * (each device syncs again as soon as it is done) and in an open loop (cycles start at a fixed
 * rate whatever the answers take, so a slow server shows as latency instead of fewer requests).
 */

export type VirtualDevice = Device & {
  lastPulledAt: number;
  gameId: string;
  /** Kept whole: an update on the wire carries every column. */
  player: WireRecord;
  playerIds: string[];
  rounds: number;
};

/** Registers `count` devices, pushes each a small history (2 games, 20 records), pulls once. */
export async function prepareDevices(
  api: ApiClient,
  count: number,
  ids: IdMaker,
): Promise<VirtualDevice[]> {
  const devices: VirtualDevice[] = [];
  const prepareOne = async (i: number) => {
    const device = await api.register(`bench-load-${i}`);
    const first = await api.pullParsed(device);
    const history = buildGames(2, 3, ids);
    await api.pushOk(device, changesOf(history), first.timestamp);
    const pulled = await api.pullParsed(device, first.timestamp);
    devices.push({
      ...device,
      lastPulledAt: pulled.timestamp,
      gameId: history.games[0].id,
      player: { ...history.game_players[0] },
      playerIds: history.game_players
        .filter((p) => p.game_id === history.games[0].id)
        .map((p) => p.id),
      rounds: 3,
    });
  };
  // A few at a time: registration and the first pushes are set-up, not the measured load.
  for (let i = 0; i < count; i += 10) {
    await Promise.all(Array.from({ length: Math.min(10, count - i) }, (_, k) => prepareOne(i + k)));
  }
  return devices;
}

/** 1 to 5 records: a new round, up to 3 scores in it, and sometimes an updated player total. */
function smallPush(device: VirtualDevice, ids: IdMaker): Changes {
  const records = 1 + Math.floor(Math.random() * 5);
  const roundId = ids.next('r');
  device.rounds += 1;
  const round: WireRecord = {
    id: roundId,
    game_id: device.gameId,
    round_number: device.rounds,
    caller_id: device.playerIds[0],
    created_at: Date.now(),
  };
  const scores = device.playerIds.slice(0, Math.min(3, records - 1)).map((playerId, j) => ({
    id: ids.next('s'),
    round_id: roundId,
    player_id: playerId,
    raw_score: 5 * j,
    bonus_applied: 0,
    final_score: 5 * j,
    total_after: 5 * j,
  }));
  const changes = changesOf({ rounds: [round], scores });
  if (records === 5) {
    device.player = { ...device.player, current_total: Number(device.player.current_total) + 5 };
    changes.game_players.updated.push(device.player);
  }
  return changes;
}

/** 'ok', an HTTP status, or 'network' for a request that got no answer. */
type Outcome = 'ok' | number | 'network';

async function syncCycle(api: ApiClient, device: VirtualDevice, ids: IdMaker): Promise<Outcome> {
  try {
    const pull = await api.pull(device, device.lastPulledAt);
    if (pull.status !== 200) return pull.status;
    const { timestamp } = JSON.parse(pull.body.toString()) as PullResponse;
    const push = await api.push(device, pushBody(smallPush(device, ids), timestamp));
    if (push.status !== 200) return push.status;
    device.lastPulledAt = timestamp;
    return 'ok';
  } catch {
    return 'network';
  }
}

export type LoadResult = {
  seconds: number;
  /** Cycles attempted (started and finished). */
  cycles: number;
  okCycles: number;
  cyclesPerSecond: number;
  /** Every cycle that did not end in 200/200: count by status ('network' for no answer). */
  errorsByStatus: Record<string, number>;
  errors: number;
  conflicts409: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  cpu: CpuShare;
};

class Tally {
  readonly latencies: number[] = [];
  readonly errorsByStatus: Record<string, number> = {};
  ok = 0;

  add(outcome: Outcome, latency: number): void {
    this.latencies.push(latency);
    if (outcome === 'ok') this.ok++;
    else this.errorsByStatus[outcome] = (this.errorsByStatus[outcome] ?? 0) + 1;
  }

  result(seconds: number, cpu: CpuShare): LoadResult {
    const errors = Object.values(this.errorsByStatus).reduce((a, b) => a + b, 0);
    return {
      seconds,
      cycles: this.latencies.length,
      okCycles: this.ok,
      cyclesPerSecond: this.ok / seconds,
      errorsByStatus: this.errorsByStatus,
      errors,
      conflicts409: this.errorsByStatus['409'] ?? 0,
      latencyMs: {
        p50: percentile(this.latencies, 50),
        p90: percentile(this.latencies, 90),
        p99: percentile(this.latencies, 99),
        max: percentile(this.latencies, 100),
      },
      cpu,
    };
  }
}

/** Every device syncs again as soon as its cycle is done, for `seconds`. */
export async function closedLoop(
  api: ApiClient,
  devices: readonly VirtualDevice[],
  seconds: number,
  serverPid: number,
  sql: Client,
  ids: IdMaker,
): Promise<LoadResult> {
  const tally = new Tally();
  const cpu = await measureCpu(serverPid, sql);
  const startedAt = performance.now();
  const stopAt = startedAt + seconds * 1000;
  await Promise.all(
    devices.map(async (device) => {
      while (performance.now() < stopAt) {
        const cycleStart = performance.now();
        const outcome = await syncCycle(api, device, ids);
        tally.add(outcome, performance.now() - cycleStart);
      }
    }),
  );
  // Cycles in flight at the deadline finish after it: divide by the time it really took.
  const elapsed = (performance.now() - startedAt) / 1000;
  return tally.result(elapsed, await cpu());
}

export type OpenLoopResult = LoadResult & {
  targetRate: number;
  /** Cycles due while all devices were still busy with earlier ones: counted as errors. */
  notStarted: number;
};

/**
 * Cycles start at `rate` per second for `seconds`, each on an idle device (a device never runs
 * two cycles at once, as a phone would not). Latency counts from when the cycle was due, so
 * the driver's own lateness is charged too rather than hidden (no coordinated omission).
 */
export async function openLoop(
  api: ApiClient,
  devices: readonly VirtualDevice[],
  rate: number,
  seconds: number,
  serverPid: number,
  sql: Client,
  ids: IdMaker,
): Promise<OpenLoopResult> {
  const tally = new Tally();
  const idle = [...devices];
  const inFlight = new Set<Promise<void>>();
  const total = Math.round(rate * seconds);
  let notStarted = 0;
  const cpu = await measureCpu(serverPid, sql);
  const startedAt = performance.now();
  for (let next = 0; next < total;) {
    const elapsed = performance.now() - startedAt;
    const due = Math.min(total, Math.floor((elapsed * rate) / 1000) + 1);
    for (; next < due; next++) {
      const dueAt = startedAt + (next * 1000) / rate;
      const device = idle.shift();
      if (!device) {
        notStarted++;
        continue;
      }
      const cycle = syncCycle(api, device, ids).then((outcome) => {
        tally.add(outcome, performance.now() - dueAt);
        idle.push(device);
        inFlight.delete(cycle);
      });
      inFlight.add(cycle);
    }
    await sleep(Math.max(0, startedAt + (next * 1000) / rate - performance.now()));
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - startedAt) / 1000;
  const result = tally.result(elapsed, await cpu());
  if (notStarted) result.errorsByStatus['not started: all devices busy'] = notStarted;
  return {
    ...result,
    errors: result.errors + notStarted,
    // The schedule's rate, over the scheduled window, for the cycles that ran.
    cyclesPerSecond: result.okCycles / seconds,
    targetRate: rate,
    notStarted,
  };
}
