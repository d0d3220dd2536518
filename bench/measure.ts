/**
 * The measured scenario, shared by `npm run bench` and `npm run bench:ab`: how a server's
 * database is seeded, and the single-request figures (first pull, push, incremental pull) next
 * to their raw-SQL lower bounds. The load figures are in load.ts.
 */
import { Client } from 'pg';
import {
  Device,
  PullAnswer,
  pull,
  pullOk,
  pulledRecords,
  push,
  pushBody,
  pushOk,
  register,
} from './api';
import { SeedOwner, analyze, ownerRows, rawFirstPull, rawPush, seedGames } from './postgres';
import { IdMaker, Records, SYNC_TABLES, buildGames, countRecords, toChanges } from './records';
import { Server } from './server';
import { percentile } from './stats';

export type Sizes = {
  firstPullRecords: number;
  pushRecords: number;
  /** The device whose incremental pulls are timed holds this many records. */
  incrementalRecords: number;
  /** The big database: this many more devices of `bulkRecordsPerDevice` records each. */
  bulkDevices: number;
  bulkRecordsPerDevice: number;
  runs: number;
  incrementalPulls: number;
  loadDevices: number;
  loadSeconds: number;
  openLoopCyclesPerSecond: number;
};

export const FULL: Sizes = {
  firstPullRecords: 100_000,
  pushRecords: 10_000,
  incrementalRecords: 10_000,
  bulkDevices: 999,
  bulkRecordsPerDevice: 1_000,
  runs: 5,
  incrementalPulls: 200,
  loadDevices: 100,
  loadSeconds: 30,
  openLoopCyclesPerSecond: 250,
};

export const QUICK: Sizes = {
  ...FULL,
  firstPullRecords: 10_000,
  bulkDevices: 99,
  runs: 3,
  loadSeconds: 5,
};

/** How many games of `perGame` children per table make about `records` records. */
const gamesFor = (records: number, perGame: number) =>
  Math.max(1, Math.round(records / countRecords(buildGames(1, perGame, new IdMaker()))));

/** One server of the run, with a SQL connection to its own database. */
export type Target = { server: Server; sql: Client; ids: IdMaker };

/** Registers `count` devices (10 at a time), whose rows are then written with SQL. */
async function devicesToSeed(target: Target, count: number, name: string) {
  const list: Array<Device & SeedOwner> = [];
  for (let i = 0; i < count; i += 10) {
    const stamp = Date.now(); // at most the clock that registration gives them
    const batch = Array.from({ length: Math.min(10, count - i) }, (_, k) =>
      register(target.server.url, `${name}-${i + k}`),
    );
    list.push(...(await Promise.all(batch)).map((device) => ({ ...device, stamp })));
  }
  return list;
}

// ---------------------------------------------------------------------------------------------
// Incremental pull of 10 changes: a device with a history, then 10 of its records updated.

export type IncrementalDevice = Device & { since: number };

export async function prepareIncremental(target: Target, sizes: Sizes): Promise<IncrementalDevice> {
  const url = target.server.url;
  const device = await register(url, 'bench-incremental');
  const first = await pullOk(url, device);
  const history = buildGames(gamesFor(sizes.incrementalRecords, 3), 3, target.ids);
  await pushOk(url, device, pushBody(toChanges(history), first.timestamp)); // through the API
  const { timestamp: since } = await pullOk(url, device, first.timestamp);
  const changed: Records = Object.fromEntries(SYNC_TABLES.map((table) => [table.name, []]));
  for (let i = 0; i < 10; i++) {
    const table = SYNC_TABLES[i % SYNC_TABLES.length].name;
    changed[table].push(history[table][Math.floor(i / SYNC_TABLES.length)]);
  }
  await pushOk(url, device, pushBody(toChanges(changed, 'updated'), since));
  const check = pulledRecords(await pullOk(url, device, since));
  if (check !== 10) throw new Error(`the incremental pull returned ${check} changes, not 10`);
  return { ...device, since };
}

/**
 * Latencies of incremental pulls, one at a time, after 20 unmeasured ones each; with several
 * targets, their requests alternate so that a drift in the machine's speed hits them alike.
 */
export async function incrementalLatencies(
  targets: Array<{ url: string; device: IncrementalDevice }>,
  pulls: number,
): Promise<number[][]> {
  const latencies = targets.map((): number[] => []);
  for (let i = 0; i < 20 + pulls; i++) {
    for (const [k, { url, device }] of targets.entries()) {
      const reply = await pull(url, device, device.since);
      if (reply.status !== 200) throw new Error(`an incremental pull answered ${reply.status}`);
      if (i >= 20) latencies[k].push(reply.ms);
    }
  }
  return latencies;
}

export const p50p99 = (latencies: number[]) => ({
  p50Ms: percentile(latencies, 50),
  p99Ms: percentile(latencies, 99),
});

/** ~1M rows on ~1,000 devices (registered through the API, rows written with SQL). */
export async function seedBulk(target: Target, sizes: Sizes): Promise<void> {
  const devices = await devicesToSeed(target, sizes.bulkDevices, 'bench-bulk');
  await seedGames(target.sql, devices, gamesFor(sizes.bulkRecordsPerDevice, 3), target.ids);
  await analyze(target.sql);
}

// ---------------------------------------------------------------------------------------------
// First pull of one device holding 100k records, against one json_agg query of the same rows.

export async function prepareFirstPull(target: Target, sizes: Sizes): Promise<Device> {
  const [device] = await devicesToSeed(target, 1, 'bench-first-pull');
  await seedGames(target.sql, [device], gamesFor(sizes.firstPullRecords, 3), target.ids);
  await analyze(target.sql);
  return device;
}

/** One timed first pull (every record counted), and the server's RSS growth during it. */
export async function firstPull(target: Target, device: Device) {
  const { server } = target;
  const before = server.rssBytes();
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, server.rssBytes())), 2);
  const reply = await pull(server.url, device);
  clearInterval(sampler);
  peak = Math.max(peak, server.rssBytes());
  if (reply.status !== 200) throw new Error(`the first pull answered ${reply.status}`);
  const records = pulledRecords(JSON.parse(reply.body.toString()) as PullAnswer);
  return { records, ms: reply.ms, bytes: reply.body.length, rssGrowthBytes: peak - before };
}

export const rawFirstPullMs = (target: Target, device: Device) =>
  rawFirstPull(target.sql, device.owner);

// ---------------------------------------------------------------------------------------------
// Push of 10k new records in one request, against the same upserts sent from a pg client.

const pushRecords = (target: Target, sizes: Sizes) =>
  buildGames(gamesFor(sizes.pushRecords, 1), 1, target.ids);

/** One timed push of a new device's first records (every record checked stored). */
export async function pushRun(target: Target, sizes: Sizes) {
  const url = target.server.url;
  const device = await register(url, 'bench-push');
  const { timestamp } = await pullOk(url, device);
  const records = pushRecords(target, sizes);
  const body = pushBody(toChanges(records), timestamp);
  const reply = await push(url, device, body);
  if (reply.status !== 200) throw new Error(`the push answered ${reply.status}`);
  const stored = await ownerRows(target.sql, device.owner);
  if (stored !== countRecords(records)) throw new Error(`a push stored ${stored} records`);
  return { records: stored, ms: reply.ms };
}

export async function rawPushMs(target: Target, sizes: Sizes): Promise<number> {
  const device = await register(target.server.url, 'bench-raw-push');
  return rawPush(target.sql, { ...device, stamp: Date.now() }, pushRecords(target, sizes));
}
