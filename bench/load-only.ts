/**
 * The closed loop alone (`npm run bench:load [-- seconds]`, default 20): starts the production
 * build like the full benchmark, prepares the 100 virtual devices and runs the closed loop, then
 * prints cycles/s, latency and CPU per cycle. For comparing one setting at a time (pool size,
 * APP_WORKERS, a branch), run it alternately with and without the change: this machine's speed
 * drifts from one minute to the next.
 */
import { Client } from 'pg';
import { ApiClient } from './api';
import { AppProcess, BenchDatabase } from './app-process';
import { closedLoop, prepareDevices } from './load';
import { IdMaker } from './records';
import { FULL } from './phases';

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
    const ids = new IdMaker();
    const devices = await prepareDevices(api, FULL.loadDevices, ids);
    const result = await closedLoop(api, devices, seconds, app.pid, sql, ids);
    const cycles = result.okCycles;
    const perCycle = (pct: number) => ((pct / 100) * result.cpu.wallSeconds * 1000) / cycles;
    console.log(
      `closed loop, ${devices.length} devices, ${seconds} s: ${result.cyclesPerSecond.toFixed(0)} cycles/s, ` +
        `p50 ${result.latencyMs.p50.toFixed(0)} ms, p99 ${result.latencyMs.p99.toFixed(0)} ms, ` +
        `errors ${JSON.stringify(result.errorsByStatus)}; CPU per cycle: server ` +
        `${perCycle(result.cpu.serverPct).toFixed(2)} ms, PostgreSQL ${perCycle(result.cpu.postgresPct).toFixed(2)} ms ` +
        `(server ${result.cpu.serverPct.toFixed(0)}% of a core, machine ${result.cpu.machinePct.toFixed(0)}%)`,
    );
  } finally {
    api.close();
    await sql.end();
    await app.stop();
    await database.destroy();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
