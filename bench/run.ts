/**
 * The sync server's benchmark (`npm run bench`, `npm run bench -- --quick`).
 *
 * Starts the production build against a fresh database (DATABASE_URL's server, or the embedded
 * PostgreSQL), then measures first pull, push, incremental pull, load and memory, each next to a
 * raw-SQL lower bound or a target. Prints a table and writes bench/results.json. The marks are
 * informative: the exit code is 0 unless something crashed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { format, resolveConfig } from 'prettier';
import { ApiClient } from './api';
import { AppProcess, BenchDatabase, redactUrl } from './app-process';
import { calibrate } from './host-speed';
import { closedLoop, openLoop, prepareDevices } from './load';
import {
  firstPull,
  FULL,
  measureIncremental,
  prepareIncremental,
  push,
  QUICK,
  seedBulk,
} from './phases';
import { waitForQuietMachine } from './proc';
import { IdMaker } from './records';
import { checkBuild, machineInfo, reportNotes, reportRows, Results } from './report';
import * as fmt from './stats';
import { log, printReport } from './stats';
import { runMain } from './run-main';

const RESULTS_FILE = path.join(__dirname, 'results.json');

/** Cleanup steps run once, last added first, on success, on error and on Ctrl-C. */
class Cleanup {
  private readonly steps: Array<() => Promise<unknown>> = [];
  private running?: Promise<void>;

  add(step: () => Promise<unknown>): void {
    this.steps.push(step);
  }

  run(): Promise<void> {
    this.running ??= (async () => {
      for (const step of this.steps.reverse()) {
        await step().catch((error: unknown) => console.error('cleanup:', error));
      }
    })();
    return this.running;
  }
}

/**
 * Waits for a quiet machine after a phase that wrote a lot: PostgreSQL's autovacuum and
 * checkpoints would otherwise run inside the next phase's measurement.
 */
async function settle(after: string): Promise<void> {
  const quiet = await waitForQuietMachine();
  log(
    `after ${after}: waited ${quiet.waitedSeconds.toFixed(1)} s for a quiet machine ` +
      `(${quiet.busyPct.toFixed(0)}% of a core busy)`,
  );
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const sizes = quick ? QUICK : FULL;
  const build = checkBuild();
  const cleanup = new Cleanup();
  const onSignal = (signal: NodeJS.Signals) => {
    log(`${signal}: cleaning up`);
    void cleanup.run().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const database = await BenchDatabase.create(process.env.DATABASE_URL || undefined);
    cleanup.add(() => database.destroy());
    const where =
      database.mode === 'external' ? ` (${redactUrl(database.appEnv.DATABASE_URL)})` : '';
    log(`database: ${database.mode}${where}`);
    const app = await AppProcess.start(database);
    cleanup.add(async () => {
      const code = await app.stop();
      if (code !== 0) log(`the app exited with ${code}; its output:\n${app.recentOutput()}`);
    });
    log(`app: pid ${app.pid} at ${app.baseUrl}`);
    const sql = new Client({ connectionString: database.sqlUrl() });
    await sql.connect();
    cleanup.add(() => sql.end());
    const api = new ApiClient(app.baseUrl);
    cleanup.add(async () => api.close());
    const machine = { ...(await machineInfo(sql, quick, database, app)), ...build };
    // Before the seed and after the load: the host's speed can change within one run.
    const calibrationAtStart = calibrate();
    const ids = new IdMaker();

    // Incremental pulls first, while the database holds just that device's rows.
    const incrementalDevice = await prepareIncremental(api, sql, sizes, ids);
    const small = await measureIncremental(
      api,
      sql,
      app,
      incrementalDevice,
      sizes.incrementalRequests,
    );
    await seedBulk(sql, sizes);
    await settle('the seed');
    const big = await measureIncremental(
      api,
      sql,
      app,
      incrementalDevice,
      sizes.incrementalRequests,
    );

    // The first pull and push run on the big database, as they would in production.
    const firstPullResult = await firstPull(api, sql, app, sizes);
    const pushResult = await push(api, sql, app, sizes, ids);

    log(`load: preparing ${sizes.loadDevices} devices`);
    const devices = await prepareDevices(api, sizes.loadDevices, ids);
    await settle('the push phase and the load set-up');
    log(`load: closed loop, ${sizes.loadSeconds} s`);
    const closed = await closedLoop(api, devices, sizes.loadSeconds, app.pid, sql, ids);
    await settle('the closed loop');
    log(`load: open loop at ${sizes.openLoopRate}/s, ${sizes.loadSeconds} s`);
    const open = await openLoop(
      api,
      devices,
      sizes.openLoopRate,
      sizes.loadSeconds,
      app.pid,
      sql,
      ids,
    );

    const results: Results = {
      firstPull: firstPullResult,
      push: pushResult,
      incremental: { small, big, p50Ratio: big.p50Ms / small.p50Ms },
      load: { devices: sizes.loadDevices, closed, open },
    };
    const calibrationMs = { start: calibrationAtStart, end: calibrate() };
    const rows = reportRows(results);
    console.log('');
    console.log(
      `Sync server benchmark (${machine.size}): ${machine.cpuModel} x${machine.cores}, Node ${machine.node}, ` +
        `PostgreSQL ${machine.postgres} (${machine.database}), commit ${machine.commit ?? '?'}` +
        `${machine.uncommittedServerChanges ? ' + uncommitted changes' : ''}`,
    );
    console.log(
      `Host speed: calibration ${fmt.ms(calibrationMs.start)} at the start, ${fmt.ms(calibrationMs.end)} ` +
        'at the end (one core, fixed JSON work; lower is faster: compare figures of hosts with it)',
    );
    printReport(rows);
    const notes = reportNotes(results, build);
    for (const note of notes) console.log(`* ${note}`);
    const json = JSON.stringify({
      machine: { ...machine, calibrationMs },
      sizes,
      ...results,
      report: rows,
      notes,
    });
    // Formatted as the repository's Prettier config would, so `prettier --check bench` holds.
    const options = await resolveConfig(RESULTS_FILE);
    fs.writeFileSync(RESULTS_FILE, await format(json, { ...options, filepath: RESULTS_FILE }));
    console.log(`\nWrote ${path.relative(process.cwd(), RESULTS_FILE)} (marks are informative)`);
  } finally {
    log('cleaning up');
    await cleanup.run();
  }
}

runMain(main);
