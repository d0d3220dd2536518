/**
 * The measured phases of the benchmark: first pull, push and incremental pull, each next to the
 * raw-SQL lower bound or the other database size it is compared with. Load is in load.ts.
 */
import { Client } from 'pg';
import { ApiClient, Device, expectStatus, PullResponse, pulledRecords, pushBody } from './api';
import { AppProcess } from './app-process';
import {
  appPids,
  CpuShare,
  measureCpu,
  peakRssBytes,
  resetPeakRss,
  rssBytes,
  sampleRss,
} from './proc';
import { buildGames, changesOf, countRecords, IdMaker, TableRecords } from './records';
import {
  vacuumAnalyze,
  countRows,
  deviceClock,
  deviceRows,
  explainIncremental,
  insertDevices,
  rawFirstPull,
  rawPush,
  seedGames,
} from './seed';
import { count, log, median, percentile } from './stats';

export type Sizes = {
  /** First pull: games of 10 records (1 game, 3 players, 3 rounds, 3 scores). */
  firstPullGames: number;
  firstPullRuns: number;
  /** Push: games of 4 records (1 game, 1 player, 1 round, 1 score): 2,500 make 10k records. */
  pushGames: number;
  pushRuns: number;
  /** Incremental: the measured device's history, in games of 10 records. */
  incrementalGames: number;
  incrementalRequests: number;
  /** The big database: this many more devices of bulkGamesPerDevice games of 10 records. */
  bulkDevices: number;
  bulkGamesPerDevice: number;
  loadDevices: number;
  loadSeconds: number;
  openLoopRate: number;
};

export const FULL: Sizes = {
  firstPullGames: 10_000,
  firstPullRuns: 5,
  pushGames: 2_500,
  pushRuns: 5,
  incrementalGames: 1_000,
  incrementalRequests: 200,
  bulkDevices: 999,
  bulkGamesPerDevice: 100,
  loadDevices: 100,
  loadSeconds: 30,
  openLoopRate: 250,
};

export const QUICK: Sizes = {
  ...FULL,
  firstPullGames: 1_000,
  firstPullRuns: 3,
  pushRuns: 3,
  bulkDevices: 99,
  loadSeconds: 5,
};

/** Median percentages of one core over the measured runs of a phase. */
export type CpuPcts = Pick<CpuShare, 'serverPct' | 'postgresPct' | 'otherPct' | 'stealPct'>;

const medianCpu = (shares: CpuShare[]): CpuPcts => ({
  serverPct: median(shares.map((share) => share.serverPct)),
  postgresPct: median(shares.map((share) => share.postgresPct)),
  otherPct: median(shares.map((share) => share.otherPct)),
  stealPct: median(shares.map((share) => share.stealPct)),
});

// ---------------------------------------------------------------------------------------------
// 1. First pull of one device holding 100k records, against one json_agg query.

export type FirstPullResult = {
  records: number;
  runs: number;
  serverMs: number[];
  serverMedianMs: number;
  recordsPerSecond: number;
  responseBytes: number;
  rawMs: number[];
  rawMedianMs: number;
  rawBytes: number;
  ratio: number;
  /** During the server pulls: how busy the app, its PostgreSQL backends and the rest were. */
  cpu: CpuPcts;
  memory: MemoryResult;
};

export type MemoryResult = {
  /** One entry per pull (warm-up included: the first big pull is where the heap grows). */
  runs: Array<{ rssBeforeBytes: number; peakRssBytes: number; growthBytes: number }>;
  maxGrowthBytes: number;
  peakRssBytes: number;
  responseBytes: number;
  growthToResponse: number;
  peakFrom: 'VmHWM after a reset and 2 ms samples' | '2 ms samples';
};

export async function firstPull(
  api: ApiClient,
  sql: Client,
  app: AppProcess,
  sizes: Sizes,
): Promise<FirstPullResult> {
  const device = await api.register('bench-first-pull');
  const records = await seedGames(
    sql,
    [{ id: device.deviceId, lastStamp: await deviceClock(sql, device.deviceId) }],
    sizes.firstPullGames,
    3,
  );
  await vacuumAnalyze(sql);
  log(`first pull: seeded ${count(records)} records; ${sizes.firstPullRuns} runs + 1 warm-up`);

  const serverMs: number[] = [];
  const rawMs: number[] = [];
  const cpu: CpuShare[] = [];
  const memory: MemoryResult['runs'] = [];
  let responseBytes = 0;
  let rawBytes = 0;
  let hwmWorks = true;
  for (let run = 0; run <= sizes.firstPullRuns; run++) {
    const pids = appPids(app.pid);
    const rssBefore = rssBytes(pids);
    hwmWorks = resetPeakRss(pids) && hwmWorks;
    const sampler = sampleRss(pids);
    const stopCpu = await measureCpu(app.pid, sql);
    const result = await api.pull(device);
    const share = await stopCpu();
    const sampledPeak = sampler.stop();
    const peak = hwmWorks ? Math.max(sampledPeak, peakRssBytes(pids)) : sampledPeak;
    expectStatus(result, 200, 'first pull');
    memory.push({ rssBeforeBytes: rssBefore, peakRssBytes: peak, growthBytes: peak - rssBefore });
    responseBytes = result.body.length;
    if (run === 0) {
      // Checked once, outside the clock: the pull returns every seeded record.
      const pulled = pulledRecords(JSON.parse(result.body.toString()) as PullResponse);
      if (pulled !== records)
        throw new Error(`first pull returned ${pulled} of ${records} records`);
    } else {
      serverMs.push(result.ms);
      cpu.push(share);
    }
    const raw = await rawFirstPull(sql, device.deviceId);
    if (run > 0) rawMs.push(raw.ms);
    rawBytes = raw.bytes;
  }
  const serverMedianMs = median(serverMs);
  const rawMedianMs = median(rawMs);
  const maxGrowth = Math.max(...memory.map((run) => run.growthBytes));
  return {
    records,
    runs: sizes.firstPullRuns,
    serverMs,
    serverMedianMs,
    recordsPerSecond: records / (serverMedianMs / 1000),
    responseBytes,
    rawMs,
    rawMedianMs,
    rawBytes,
    ratio: serverMedianMs / rawMedianMs,
    cpu: medianCpu(cpu),
    memory: {
      runs: memory,
      maxGrowthBytes: maxGrowth,
      peakRssBytes: Math.max(...memory.map((run) => run.peakRssBytes)),
      responseBytes,
      growthToResponse: maxGrowth / responseBytes,
      peakFrom: hwmWorks ? 'VmHWM after a reset and 2 ms samples' : '2 ms samples',
    },
  };
}

// ---------------------------------------------------------------------------------------------
// 2. Push of 10k new records in one request, against the same upserts sent from a pg client.

export type PushResult = {
  records: number;
  bodyBytes: number;
  runs: number;
  serverMs: number[];
  serverMedianMs: number;
  recordsPerSecond: number;
  rawMs: number[];
  rawMedianMs: number;
  ratio: number;
  cpu: CpuPcts;
};

export async function push(
  api: ApiClient,
  sql: Client,
  app: AppProcess,
  sizes: Sizes,
  ids: IdMaker,
): Promise<PushResult> {
  const serverMs: number[] = [];
  const rawMs: number[] = [];
  const cpu: CpuShare[] = [];
  let records = 0;
  let bodyBytes = 0;
  log(`push: ${sizes.pushRuns} runs + 1 warm-up, a fresh device each`);
  for (let run = 0; run <= sizes.pushRuns; run++) {
    // Server and raw runs alternate, so drift in the machine touches both alike.
    const device = await api.register(`bench-push-${run}`);
    const { timestamp } = await api.pullParsed(device);
    const batch = buildGames(sizes.pushGames, 1, ids);
    records = countRecords(batch);
    const body = pushBody(changesOf(batch), timestamp);
    bodyBytes = Buffer.byteLength(body);
    const stopCpu = await measureCpu(app.pid, sql);
    const result = await api.push(device, body);
    const share = await stopCpu();
    expectStatus(result, 200, 'push');

    const rawDevice = await api.register(`bench-push-raw-${run}`);
    const stamp = await deviceClock(sql, rawDevice.deviceId);
    const raw = await rawPush(sql, rawDevice.deviceId, stamp, buildGames(sizes.pushGames, 1, ids));
    if (run === 0) {
      // Checked once, outside the clock: both paths stored every record.
      for (const stored of [device, rawDevice]) {
        const rows = await deviceRows(sql, stored.deviceId);
        if (rows !== records) throw new Error(`a push stored ${rows} of ${records} records`);
      }
    } else {
      serverMs.push(result.ms);
      rawMs.push(raw);
      cpu.push(share);
    }
  }
  const serverMedianMs = median(serverMs);
  const rawMedianMs = median(rawMs);
  return {
    records,
    bodyBytes,
    runs: sizes.pushRuns,
    serverMs,
    serverMedianMs,
    recordsPerSecond: records / (serverMedianMs / 1000),
    rawMs,
    rawMedianMs,
    ratio: serverMedianMs / rawMedianMs,
    cpu: medianCpu(cpu),
  };
}

// ---------------------------------------------------------------------------------------------
// 3. Incremental pull of 10 changes, on a small database and on a big one.

export type IncrementalDevice = { device: Device; since: number };

/** A device with ~10k records, then 10 changes pushed after `since`. */
export async function prepareIncremental(
  api: ApiClient,
  sql: Client,
  sizes: Sizes,
  ids: IdMaker,
): Promise<IncrementalDevice> {
  const device = await api.register('bench-incremental');
  const first = await api.pullParsed(device);
  const history: TableRecords = buildGames(sizes.incrementalGames, 3, ids);
  // The measured device's own history goes through the public API, in one push.
  await api.pushOk(device, changesOf(history), first.timestamp);
  const { timestamp: since } = await api.pullParsed(device, first.timestamp);
  const changed = changesOf(
    {
      games: history.games.slice(0, 3).map((game) => ({ ...game, status: 'finished' })),
      game_players: history.game_players
        .slice(0, 3)
        .map((player) => ({ ...player, current_total: Number(player.current_total) + 1 })),
      rounds: history.rounds.slice(0, 2).map((r) => ({ ...r, caller_id: null })),
      scores: history.scores.slice(0, 2).map((s) => ({ ...s, bonus_applied: 5 })),
    },
    'updated',
  );
  await api.pushOk(device, changed, since);
  // Statistics as autovacuum would have them by then, as after the bulk seed.
  await vacuumAnalyze(sql);
  return { device, since };
}

export type IncrementalResult = {
  databaseRows: number;
  databaseDevices: number;
  requests: number;
  changesPerPull: number;
  responseBytes: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  cpu: CpuShare;
  explain: Awaited<ReturnType<typeof explainIncremental>>;
};

export async function measureIncremental(
  api: ApiClient,
  sql: Client,
  app: AppProcess,
  { device, since }: IncrementalDevice,
  requests: number,
): Promise<IncrementalResult> {
  const { rows, devices } = await countRows(sql);
  log(`incremental pull: ${count(rows)} rows on ${devices} device(s), ${requests} pulls`);
  const check = await api.pullParsed(device, since);
  const changesPerPull = pulledRecords(check);
  if (changesPerPull !== 10) throw new Error(`incremental pull returned ${changesPerPull} changes`);
  const latencies: number[] = [];
  let responseBytes = 0;
  // Warm-up pulls (JIT, caches), then the measured ones, one at a time.
  const warmUp = 50;
  let stopCpu = await measureCpu(app.pid, sql);
  for (let i = 0; i < warmUp + requests; i++) {
    if (i === warmUp) stopCpu = await measureCpu(app.pid, sql);
    const result = await api.pull(device, since);
    expectStatus(result, 200, 'incremental pull');
    responseBytes = result.body.length;
    if (i >= warmUp) latencies.push(result.ms);
  }
  const cpu = await stopCpu();
  return {
    databaseRows: rows,
    databaseDevices: devices,
    requests,
    changesPerPull,
    responseBytes,
    p50Ms: percentile(latencies, 50),
    p90Ms: percentile(latencies, 90),
    p99Ms: percentile(latencies, 99),
    maxMs: percentile(latencies, 100),
    cpu,
    explain: await explainIncremental(sql, device.deviceId, since),
  };
}

/** Fills the database up to the big size with other devices' rows (bulk SQL), then VACUUM ANALYZE. */
export async function seedBulk(sql: Client, sizes: Sizes): Promise<number> {
  const target = sizes.bulkDevices * sizes.bulkGamesPerDevice * 10;
  log(`bulk seed: ${count(target)} rows over ${sizes.bulkDevices} more devices (SQL)`);
  const startedAt = performance.now();
  const devices = await insertDevices(sql, sizes.bulkDevices);
  const rows = await seedGames(sql, devices, sizes.bulkGamesPerDevice, 3);
  await vacuumAnalyze(sql);
  log(`bulk seed: done in ${((performance.now() - startedAt) / 1000).toFixed(1)} s`);
  return rows;
}
