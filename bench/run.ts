/**
 * The sync server's benchmark: `npm run bench` (2-3 minutes) or `npm run bench -- --quick` (under
 * one). Starts the production build on a fresh database, seeds it, measures each figure next to
 * a raw-SQL lower bound or a target, prints one table and writes bench/results.json. The marks
 * are informative: the exit code is 0 unless something crashed.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { format, resolveConfig } from 'prettier';
import { Cleanup, runMain } from './cleanup';
import { LoadResult, closedLoop, openLoop, prepareFleet } from './load';
import * as measure from './measure';
import { analyze, startPostgres, syncedRows } from './postgres';
import { ROOT } from './server';
import { count, log, median, mib, ms, percentile, printTable, ratio } from './stats';

/** `runs` + 1 calls of `measure`, the first a warm-up; the median of each number over the rest. */
async function medians<T extends Record<string, number>>(runs: number, measure: () => Promise<T>) {
  const all: T[] = [];
  for (let run = 0; run <= runs; run++) all.push(await measure());
  const mid = (key: string) => median(all.slice(1).map((run) => run[key]));
  return { ...(Object.fromEntries(Object.keys(all[0]).map((key) => [key, mid(key)])) as T), all };
}

const failures = (load: LoadResult) =>
  Object.entries(load.failures)
    .map(([status, n]) => `${n} x ${status}`)
    .join(', ') || 'none';

async function bench(cleanup: Cleanup): Promise<void> {
  const quick = process.argv.includes('--quick');
  const sizes = quick ? measure.QUICK : measure.FULL;
  const postgres = await startPostgres();
  cleanup.add(() => postgres.stop());
  const target = await measure.startTarget(postgres.url, cleanup);
  log(`PostgreSQL ${postgres.version} (${postgres.kind}), ${quick ? 'quick' : 'full'} size`);

  // 3. Incremental pulls while the database is small, then again once it is big.
  const device = await measure.prepareIncremental(target, sizes);
  await analyze(target.sql);
  const incremental = async () => {
    const [latencies] = await measure.incrementalLatencies([device], sizes.incrementalPulls);
    const rows = await syncedRows(target.sql);
    return { rows, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
  };
  const small = await incremental();
  log(`incremental pull p50 ${ms(small.p50Ms)}; seeding the big database`);
  await measure.seedBulk(target, sizes);
  const big = await incremental();
  log(`incremental pull p50 ${ms(big.p50Ms)}; first pull`);

  // 1 and 6, then 2, on the big database as in production. Server and raw-SQL runs alternate,
  // so that a drift in the machine's speed touches both alike.
  const puller = await measure.prepareFirstPull(target, sizes);
  const pulls = await medians(sizes.runs, async () => ({
    ...(await measure.firstPull(target, puller)),
    rawMs: await measure.rawFirstPullMs(target, puller),
  }));
  // The warm-up included: the first big pull is where the heap grows.
  const rssGrowth = Math.max(...pulls.all.map((run) => run.rssGrowthBytes));
  log(`first pull ${ms(pulls.ms)}; push`);
  const pushes = await medians(sizes.runs, async () => ({
    ...(await measure.pushRun(target, sizes)),
    rawMs: await measure.rawPushMs(target, sizes),
  }));

  // 4 and 5.
  const fleet = await prepareFleet(target.server.url, sizes.loadDevices, target.ids);
  log(`closed loop, ${sizes.loadDevices} devices, ${sizes.loadSeconds} s`);
  const closed = await closedLoop(fleet, sizes.loadSeconds);
  const rate = sizes.openLoopCyclesPerSecond;
  log(`open loop at ${rate} cycles/s, ${sizes.loadSeconds} s`);
  const open = await openLoop(fleet, rate, sizes.loadSeconds);

  const { records } = puller;
  const { bytes } = pulls;
  const figures = {
    firstPull: {
      records,
      bytes,
      ms: pulls.ms,
      rawJsonAggMs: pulls.rawMs,
      toRaw: pulls.ms / pulls.rawMs,
    },
    push: {
      records: pushes.records,
      ms: pushes.ms,
      rawUpsertsMs: pushes.rawMs,
      toRaw: pushes.ms / pushes.rawMs,
    },
    incremental: { small, big, bigToSmall: big.p50Ms / small.p50Ms },
    closedLoop: { ...closed, latencies: undefined },
    openLoop: { ...open, latencies: undefined },
    rssGrowth: { bytes: rssGrowth, toResponse: rssGrowth / bytes },
  };
  const { firstPull: f, push: p, incremental: i, rssGrowth: m } = figures;
  const pullRate = records / (f.ms / 1000);
  const loadText = (load: LoadResult) =>
    `${count(load.cyclesPerSecond)} cycles/s, failed: ${failures(load)}; ` +
    `request p50 ${ms(load.requestLatencyMs.p50)}, p99 ${ms(load.requestLatencyMs.p99)}`;
  const table: Array<[string, string, string, boolean]> = [
    [
      `1 first pull, ${count(records)} records (${mib(bytes)})`,
      `${ms(f.ms)}, ${count(pullRate)}/s; ${ratio(f.toRaw)} raw json_agg (${ms(f.rawJsonAggMs)})`,
      '>= 100k/s, <= 1.5x raw',
      pullRate >= 100_000 && f.toRaw <= 1.5,
    ],
    [
      `2 push, ${count(p.records)} records in one request`,
      `${ms(p.ms)}, ${count(p.records / (p.ms / 1000))}/s; ${ratio(p.toRaw)} raw upserts (${ms(p.rawUpsertsMs)})`,
      '<= 2x raw',
      p.toRaw <= 2,
    ],
    [
      '3 incremental pull of 10, p50 / p99',
      `${ms(small.p50Ms)} / ${ms(small.p99Ms)} @ ${count(small.rows)} rows, ` +
        `${ms(big.p50Ms)} / ${ms(big.p99Ms)} @ ${count(big.rows)}: big/small ${ratio(i.bigToSmall)}`,
      'p50 < 10 ms, <= 1.5x',
      Math.max(small.p50Ms, big.p50Ms) < 10 && i.bigToSmall <= 1.5,
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
      `${mib(m.bytes)} for a ${mib(bytes)} response (${ratio(m.toResponse)})`,
      '< 2x the response',
      m.toResponse < 2,
    ],
  ];

  const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  const changed = git('status', '--porcelain', 'src', 'migrations') ? ' + uncommitted changes' : '';
  const commit = git('rev-parse', '--short', 'HEAD').trim() + changed;
  const machine = {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    node: process.version,
    postgres: `${postgres.version} (${postgres.kind})`,
  };
  console.log(
    `\nSync server benchmark (${quick ? 'quick' : 'full'}), commit ${commit}: ${machine.cpu} ` +
      `x${machine.cores}, Node ${machine.node}, PostgreSQL ${machine.postgres}. ` +
      'Latencies in 3-5 are per request (a pull or a push), as autocannon times them.\n',
  );
  printTable([
    ['figure', 'measured', 'target', ''],
    ...table.map(([name, value, mark, met]) => [name, value, mark, met ? 'met' : 'MISSED']),
  ]);

  const marks = table.map(([figure, , target, met]) => ({ figure, target, met }));
  const results = { date: new Date(), commit, quick, machine, sizes, ...figures, marks };
  // Four significant digits are plenty; formatted as `prettier --check` wants it.
  const json = JSON.stringify(results, (_, value: unknown) =>
    typeof value === 'number' && !Number.isInteger(value) ? Number(value.toPrecision(4)) : value,
  );
  const file = path.join(__dirname, 'results.json');
  fs.writeFileSync(file, await format(json, { ...(await resolveConfig(file)), filepath: file }));
  console.log('\nWrote bench/results.json (the marks are informative)');
}

runMain(bench);
