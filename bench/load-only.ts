/**
 * The load phases alone (`npm run bench:load [-- seconds]`, default 20 each): starts the
 * production build like the full benchmark on a fresh database, prepares the 100 virtual devices,
 * runs the closed loop and then the open loop at the full benchmark's rate, and prints cycles/s,
 * latency and CPU per cycle. To compare a change, prefer `npm run bench:ab` (both servers under
 * the same load at once): this machine's speed drifts from one minute to the next.
 */
import { Client } from 'pg';
import { ApiClient } from './api';
import { AppProcess, BenchDatabase } from './app-process';
import { calibrate, cpuName } from './host-speed';
import { closedLoop, LoadResult, openLoop, prepareDevices } from './load';
import { IdMaker } from './records';
import { FULL } from './phases';
import { runMain } from './run-main';

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 20);
  const database = await BenchDatabase.create(process.env.DATABASE_URL || undefined);
  const app = await AppProcess.start(database).catch(async (error: unknown) => {
    await database.destroy();
    throw error;
  });
  const sql = new Client({ connectionString: database.sqlUrl() });
  const api = new ApiClient(app.baseUrl);
  try {
    await sql.connect();
    console.log(`${cpuName()}: calibration ${calibrate().toFixed(1)} ms (lower is faster)`);
    const ids = new IdMaker();
    const devices = await prepareDevices(api, FULL.loadDevices, ids);
    const print = (label: string, result: LoadResult) => {
      const perCycle = (pct: number) =>
        ((pct / 100) * result.cpu.wallSeconds * 1000) / Math.max(1, result.okCycles);
      console.log(
        `${label}, ${devices.length} devices, ${seconds} s: ${result.cyclesPerSecond.toFixed(0)} cycles/s, ` +
          `p50 ${result.latencyMs.p50.toFixed(1)} ms, p99 ${result.latencyMs.p99.toFixed(1)} ms, ` +
          `errors ${JSON.stringify(result.errorsByStatus)}; CPU per cycle: server ` +
          `${perCycle(result.cpu.serverPct).toFixed(2)} ms, PostgreSQL ${perCycle(result.cpu.postgresPct).toFixed(2)} ms ` +
          `(server ${result.cpu.serverPct.toFixed(0)}% of a core, machine ${result.cpu.machinePct.toFixed(0)}%, ` +
          `steal ${result.cpu.stealPct.toFixed(0)}%)`,
      );
    };
    print('closed loop', await closedLoop(api, devices, seconds, app.pid, sql, ids));
    const rate = FULL.openLoopRate;
    print(`open loop at ${rate}/s`, await openLoop(api, devices, rate, seconds, app.pid, sql, ids));
  } finally {
    api.close();
    await sql.end();
    await app.stop();
    await database.destroy();
  }
}

runMain(main);
