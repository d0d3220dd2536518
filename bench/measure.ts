/**
 * The measured scenario, shared by `npm run bench` and `npm run bench:ab`: a server on a fresh
 * database, how that database is seeded, and the single-request figures (first pull, push,
 * incremental pull) with their raw-SQL lower bounds. The load is in load.ts.
 */
import { Client } from 'pg';
import * as api from './api';
import { Cleanup } from './cleanup';
import { analyze, createDatabase, ownerColumn, rawFirstPull, rawPush, seedGames } from './postgres';
import { IdMaker, SYNC_TABLES, buildGames, countRecords, emptyRecords, toChanges } from './records';
import { Server } from './server';

export const FULL = {
  firstPullRecords: 100_000,
  pushRecords: 10_000,
  /** The device whose incremental pulls are timed holds this many records. */
  incrementalRecords: 10_000,
  incrementalPulls: 200,
  /** The big database: this many more devices of `bulkRecordsPerDevice` records each. */
  bulkDevices: 999,
  bulkRecordsPerDevice: 1_000,
  /** Timed first pulls and pushes (after one warm-up). */
  runs: 5,
  loadDevices: 100,
  loadSeconds: 30,
  openLoopCyclesPerSecond: 250,
};
export type Sizes = typeof FULL;
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

/** A server of the run, with a SQL connection to its own database and its rows' owner column. */
export type Target = { server: Server; sql: Client; ids: IdMaker; owner: string };

/** A fresh database on the PostgreSQL server `postgresUrl`, and a server (build) on it. */
export async function startTarget(
  postgresUrl: string,
  cleanup: Cleanup,
  options: { root?: string; env?: Record<string, string> } = {},
): Promise<Target> {
  const database = await createDatabase(postgresUrl);
  cleanup.add(() => database.drop());
  const server = await Server.start(database.url, options);
  cleanup.add(() => server.stop());
  const sql = new Client({ connectionString: database.url });
  await sql.connect();
  cleanup.add(() => sql.end());
  return { server, sql, ids: new IdMaker(), owner: await ownerColumn(sql) };
}

/**
 * Accounts (devices in builds from before accounts) whose rows are written with SQL, stamped
 * below the clock registration gave them; each account has a second, paired device, as a
 * player's phone and tablet.
 */
const ownersToSeed = (target: Target, count: number) =>
  api.inBatches(count, async (i) => {
    const stamp = Date.now();
    const device = await api.register(target.server.url, `bench-seeded-${i}`);
    await api.register(target.server.url, `bench-seeded-${i}-tablet`, device);
    return { ...device, stamp };
  });

/** The big database: ~1M rows on ~1,000 devices. */
export async function seedBulk(target: Target, sizes: Sizes): Promise<void> {
  const owners = await ownersToSeed(target, sizes.bulkDevices);
  const games = gamesFor(sizes.bulkRecordsPerDevice, 3);
  await seedGames(target.sql, target.owner, owners, games, target.ids);
  await analyze(target.sql);
}

// Incremental pull of 10 changes: a device with a history, 10 of its records updated since.

export type IncrementalDevice = api.Device & { url: string; since: number };

export async function prepareIncremental(target: Target, sizes: Sizes): Promise<IncrementalDevice> {
  const url = target.server.url;
  const device = await api.register(url, 'bench-incremental');
  const first = await api.pullOk(url, device);
  const history = buildGames(gamesFor(sizes.incrementalRecords, 3), 3, target.ids);
  await api.pushOk(url, device, api.pushBody(toChanges(history), first.timestamp)); // through the API
  const { timestamp: since } = await api.pullOk(url, device, first.timestamp);
  const changed = emptyRecords();
  for (let i = 0; i < 10; i++) {
    const table = SYNC_TABLES[i % SYNC_TABLES.length].name;
    changed[table].push(history[table][Math.floor(i / SYNC_TABLES.length)]);
  }
  await api.pushOk(url, device, api.pushBody(toChanges(changed, 'updated'), since));
  const check = api.pulledRecords(await api.pullOk(url, device, since));
  if (check !== 10) throw new Error(`the incremental pull returned ${check} changes, not 10`);
  return { ...device, url, since };
}

/**
 * Latencies of incremental pulls, one at a time, after 20 unmeasured ones; of two devices (of
 * two servers), request by request in turn, so that a drift in the machine's speed hits both.
 */
export async function incrementalLatencies(devices: IncrementalDevice[], pulls: number) {
  const latencies = devices.map((): number[] => []);
  for (let i = 0; i < 20 + pulls; i++) {
    for (const [k, device] of devices.entries()) {
      const reply = await api.pull(device.url, device, device.since);
      if (reply.status !== 200) throw new Error(`an incremental pull answered ${reply.status}`);
      if (i >= 20) latencies[k].push(reply.ms);
    }
  }
  return latencies;
}

// First pull of a device holding 100k records, against one json_agg query of the same rows.

/** The device, its rows seeded with SQL, and how many records its first pull returns. */
export async function prepareFirstPull(target: Target, sizes: Sizes) {
  const [device] = await ownersToSeed(target, 1);
  const games = gamesFor(sizes.firstPullRecords, 3);
  await seedGames(target.sql, target.owner, [device], games, target.ids);
  await analyze(target.sql);
  // Counted once, here: parsing 15 MB of JSON between timed pulls would leave the driver's GC
  // to run in the next one.
  return { ...device, records: api.pulledRecords(await api.pullOk(target.server.url, device)) };
}

/** One timed first pull, and the server's RSS growth during it. */
export async function firstPull(target: Target, device: api.Device) {
  const { server } = target;
  const before = server.rssBytes();
  let peak = before;
  const sampler = setInterval(() => (peak = Math.max(peak, server.rssBytes())), 2);
  const reply = await api.pull(server.url, device);
  clearInterval(sampler);
  peak = Math.max(peak, server.rssBytes());
  if (reply.status !== 200) throw new Error(`the first pull answered ${reply.status}`);
  return { ms: reply.ms, bytes: reply.body.length, rssGrowthBytes: peak - before };
}

export const rawFirstPullMs = (target: Target, device: api.Device) =>
  rawFirstPull(target.sql, target.owner, device.owner);

// Push of 10k new records in one request, against the same upserts sent from a pg client.

const pushRecords = (target: Target, sizes: Sizes) =>
  buildGames(gamesFor(sizes.pushRecords, 1), 1, target.ids);

/** One timed push, a new device's first (its records checked stored). */
export async function pushRun(target: Target, sizes: Sizes) {
  const url = target.server.url;
  const device = await api.register(url, 'bench-push');
  const { timestamp } = await api.pullOk(url, device);
  const records = pushRecords(target, sizes);
  const reply = await api.push(url, device, api.pushBody(toChanges(records), timestamp));
  if (reply.status !== 200) throw new Error(`the push answered ${reply.status}`);
  const stored = api.pulledRecords(await api.pullOk(url, device));
  if (stored !== countRecords(records)) throw new Error(`a push stored ${stored} records`);
  return { records: stored, ms: reply.ms };
}

export async function rawPushMs(target: Target, sizes: Sizes): Promise<number> {
  const device = await api.register(target.server.url, 'bench-raw-push');
  const records = pushRecords(target, sizes);
  return rawPush(target.sql, target.owner, { ...device, stamp: Date.now() }, records);
}
