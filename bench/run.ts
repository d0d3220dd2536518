/**
 * The sync server's benchmark: `npm run bench` (about 2-3 minutes) or `npm run bench -- --quick`
 * (under one). Starts the production build on a fresh database, seeds it, measures each figure
 * next to a raw-SQL lower bound or a target, prints one table and writes bench/results.json.
 * The marks are informative: the exit code is 0 unless something crashed.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { format, resolveConfig } from 'prettier';
import { Cleanup, runMain } from './cleanup';
import { LoadResult, closedLoop, openLoop, prepareDevices } from './load';
import {
  FULL,
  QUICK,
  firstPull,
  incrementalLatencies,
  p50p99,
  prepareFirstPull,
  prepareIncremental,
  pushRun,
  rawFirstPullMs,
  rawPushMs,
  seedBulk,
} from './measure';
import { analyze, createDatabase, startPostgres } from './postgres';
import { IdMaker } from './records';
import { ROOT, Server } from './server';
import { count, log, median, mib, ms, printTable, ratio } from './stats';

const RESULTS = path.join(__dirname, 'results.json');

/** `runs` + 1 calls of `measure`, the first a warm-up; the median of each number over the rest. */
async function medians<T extends Record<string, number>>(runs: number, measure: () => Promise<T>) {
  const all: T[] = [];
  for (let run = 0; run <= runs; run++) all.push(await measure());
  const measured = all.slice(1);
  const keys = Object.keys(all[0]) as Array<keyof T>;
  return {
    ...Object.fromEntries(keys.map((key) => [key, median(measured.map((run) => run[key]))])),
    all,
  } as T & { all: T[] };
}

const failures = (load: LoadResult) =>
  Object.entries(load.failures)
    .map(([status, n]) => `${n} x ${status}`)
    .join(', ') || 'none';

async function bench(cleanup: Cleanup): Promise<void> {
  const quick = process.argv.includes('--quick');
  const sizes = quick ? QUICK : FULL;
  const postgres = await startPostgres();
  cleanup.add(() => postgres.stop());
  const database = await createDatabase(postgres.url);
  cleanup.add(() => database.drop());
  const server = await Server.start(database.url);
  cleanup.add(() => server.stop());
  const sql = new Client({ connectionString: database.url });
  await sql.connect();
  cleanup.add(() => sql.end());
  const target = { server, sql, ids: new IdMaker() };
  const { url } = server;
  log(`PostgreSQL ${postgres.version} (${postgres.kind}), ${quick ? 'quick' : 'full'} size`);

  // 3. Incremental pulls, while the database is small, then again once it is big.
  const liveRows = async () => {
    const { rows } = await sql.query<{ n: string }>(
      'SELECT sum(n_live_tup) AS n FROM pg_stat_user_tables',
    );
    return Number(rows[0].n);
  };
  const device = await prepareIncremental(target, sizes);
  await analyze(sql);
  const incremental = async () => ({
    rows: await liveRows(),
    ...p50p99((await incrementalLatencies([{ url, device }], sizes.incrementalPulls))[0]),
  });
  const small = await incremental();
  log(
    `incremental pull p50 ${ms(small.p50Ms)}; seeding ~${count(sizes.bulkDevices * sizes.bulkRecordsPerDevice)} rows`,
  );
  await seedBulk(target, sizes);
  const big = await incremental();
  log(`incremental pull p50 ${ms(big.p50Ms)}; first pull`);

  // 1 and 6. The first pull (and the push) run on the big database, as they would in production.
  const pullDevice = await prepareFirstPull(target, sizes);
  // Server and raw runs alternate, so that a drift in the machine's speed touches both alike.
  const pulls = await medians(sizes.runs, async () => ({
    ...(await firstPull(target, pullDevice)),
    rawMs: await rawFirstPullMs(target, pullDevice),
  }));
  const { records, bytes } = pulls;
  // Over every pull, the warm-up included: the first big pull is where the heap grows.
  const rssGrowth = Math.max(...pulls.all.map((run) => run.rssGrowthBytes));
  log(`first pull ${ms(pulls.ms)}; push`);

  // 2.
  const pushes = await medians(sizes.runs, async () => ({
    ...(await pushRun(target, sizes)),
    rawMs: await rawPushMs(target, sizes),
  }));

  // 4 and 5.
  const devices = await prepareDevices(url, sizes.loadDevices, target.ids);
  log(`closed loop, ${sizes.loadDevices} devices, ${sizes.loadSeconds} s`);
  const closed = await closedLoop(url, devices, sizes.loadSeconds, target.ids);
  const rate = sizes.openLoopCyclesPerSecond;
  log(`open loop at ${rate} cycles/s, ${sizes.loadSeconds} s`);
  const open = await openLoop(url, devices, rate, sizes.loadSeconds, target.ids);

  const figures = {
    firstPull: {
      records,
      bytes,
      ms: pulls.ms,
      recordsPerSecond: records / (pulls.ms / 1000),
      rawJsonAggMs: pulls.rawMs,
      toRaw: pulls.ms / pulls.rawMs,
    },
    push: {
      records: pushes.records,
      ms: pushes.ms,
      recordsPerSecond: pushes.records / (pushes.ms / 1000),
      rawUpsertsMs: pushes.rawMs,
      toRaw: pushes.ms / pushes.rawMs,
    },
    incremental: { small, big, bigToSmallP50: big.p50Ms / small.p50Ms },
    closedLoop: closed,
    openLoop: { cyclesPerSecondAsked: rate, ...open },
    rssGrowth: { bytes: rssGrowth, toResponse: rssGrowth / bytes },
  };
  const { firstPull: f, push: p, incremental: i } = figures;
  const loadText = (load: LoadResult) =>
    `${count(load.cyclesPerSecond)} cycles/s, failed: ${failures(load)}; ` +
    `request p50 ${ms(load.requestLatencyMs.p50)}, p99 ${ms(load.requestLatencyMs.p99)}`;
  const table: Array<[string, string, string, boolean]> = [
    [
      `1 first pull, ${count(records)} records (${mib(bytes)})`,
      `${ms(f.ms)}, ${count(f.recordsPerSecond)}/s; ${ratio(f.toRaw)} raw json_agg (${ms(f.rawJsonAggMs)})`,
      '>= 100k/s, <= 1.5x raw',
      f.recordsPerSecond >= 100_000 && f.toRaw <= 1.5,
    ],
    [
      `2 push, ${count(p.records)} records in one request`,
      `${ms(p.ms)}, ${count(p.recordsPerSecond)}/s; ${ratio(p.toRaw)} raw upserts (${ms(p.rawUpsertsMs)})`,
      '<= 2x raw',
      p.toRaw <= 2,
    ],
    [
      '3 incremental pull of 10, p50 / p99',
      `${ms(small.p50Ms)} / ${ms(small.p99Ms)} @ ${count(small.rows)} rows, ` +
        `${ms(big.p50Ms)} / ${ms(big.p99Ms)} @ ${count(big.rows)}: big/small ${ratio(i.bigToSmallP50)}`,
      'p50 < 10 ms, <= 1.5x',
      Math.max(small.p50Ms, big.p50Ms) < 10 && i.bigToSmallP50 <= 1.5,
    ],
    [
      `4 closed loop, ${sizes.loadDevices} devices, ${sizes.loadSeconds} s`,
      loadText(closed),
      '>= 500/s, 0 errors',
      closed.cyclesPerSecond >= 500 && failures(closed) === 'none',
    ],
    [
      `5 open loop, ${rate} cycles/s, ${sizes.loadSeconds} s`,
      loadText(open),
      'p99 < 50 ms',
      open.requestLatencyMs.p99 < 50 && failures(open) === 'none',
    ],
    [
      '6 RSS growth during the first pull',
      `${mib(rssGrowth)} for a ${mib(bytes)} response (${ratio(figures.rssGrowth.toResponse)})`,
      '< 2x the response',
      figures.rssGrowth.toResponse < 2,
    ],
  ];

  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
  const changed = git('status', '--porcelain', 'src', 'migrations') ? ' + uncommitted changes' : '';
  const machine = {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    node: process.version,
    postgres: `${postgres.version} (${postgres.kind})`,
  };
  const commit = `${git('rev-parse', '--short', 'HEAD')}${changed}`;
  console.log(
    `\nSync server benchmark (${quick ? 'quick' : 'full'}), commit ${commit}: ${machine.cpu} ` +
      `x${machine.cores}, Node ${machine.node}, PostgreSQL ${machine.postgres}. ` +
      'Latencies of 3-5 are per request (a pull or a push), as autocannon times them.\n',
  );
  printTable([
    ['figure', 'measured', 'target', ''],
    ...table.map(([name, value, mark, met]) => [name, value, mark, met ? 'met' : 'MISSED']),
  ]);
  const marks = table.map(([name, , mark, met]) => ({ figure: name, target: mark, met }));
  const results = { date: new Date(), commit, quick, machine, sizes, ...figures, marks };
  // Four significant digits are plenty; formatted as `prettier --check` wants it.
  const json = JSON.stringify(results, (_, value: unknown) =>
    typeof value === 'number' && !Number.isInteger(value) ? Number(value.toPrecision(4)) : value,
  );
  const options = await resolveConfig(RESULTS);
  fs.writeFileSync(RESULTS, await format(json, { ...options, filepath: RESULTS }));
  console.log('\nWrote bench/results.json (the marks are informative)');
}

runMain(bench);
