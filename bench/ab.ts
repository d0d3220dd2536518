/**
 * A/B comparison under one load (`npm run bench:ab -- [options]`): two servers, A (this
 * checkout's build) and B, each on its own fresh database, run the closed loop at the same time
 * with half of the virtual devices each. This machine's speed drifts by up to 2x from one minute
 * to the next, which swamps a 10% change between two runs one after the other; two servers
 * measured side by side see the same drift, so their CPU per cycle compares.
 *
 *   --b <dir>             B is another checkout (built, with its node_modules), e.g. a worktree
 *                         of a branch. Default: this checkout again.
 *   --b-env NAME=VALUE    a setting for B only (repeatable), e.g. --b-env DATABASE_POOL_SIZE=25
 *   --seconds <n>         length of each round (default 12)
 *   --rounds <n>          measured rounds (default 4), after one unmeasured warm-up round
 *
 * With neither --b nor --b-env, A and B are the same build: the spread of that A/A run is the
 * harness's own noise, to hold any A/B result against.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { ApiClient } from './api';
import { AppProcess, BenchDatabase } from './app-process';
import { closedLoop, LoadResult, prepareDevices, VirtualDevice } from './load';
import { IdMaker } from './records';
import { percentile } from './stats';
import { runMain } from './run-main';

/** One server of the pair with everything it needs, and how to take it down. */
class Side {
  private constructor(
    private readonly database: BenchDatabase,
    readonly app: AppProcess,
    readonly sql: Client,
    readonly api: ApiClient,
  ) {}

  static async start(options: { root?: string; env?: Record<string, string> }): Promise<Side> {
    const database = await BenchDatabase.create(process.env.DATABASE_URL || undefined);
    const app = await AppProcess.start(database, options).catch(async (error: unknown) => {
      await database.destroy();
      throw error;
    });
    const sql = new Client({ connectionString: database.sqlUrl() });
    await sql.connect();
    return new Side(database, app, sql, new ApiClient(app.baseUrl));
  }

  run(devices: readonly VirtualDevice[], seconds: number, ids: IdMaker): Promise<LoadResult> {
    return closedLoop(this.api, devices, seconds, this.app.pid, this.sql, ids);
  }

  async stop(): Promise<void> {
    this.api.close();
    await this.sql.end();
    await this.app.stop();
    await this.database.destroy();
  }
}

/** CPU milliseconds per completed cycle of one process group, from a load result. */
const msPerCycle = (result: LoadResult, pct: number) =>
  ((pct / 100) * result.cpu.wallSeconds * 1000) / Math.max(1, result.okCycles);

function parseEnv(pairs: string[]): Record<string, string> {
  return Object.fromEntries(
    pairs.map((pair) => {
      const at = pair.indexOf('=');
      if (at < 1) throw new Error(`--b-env wants NAME=VALUE, got ${pair}`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      b: { type: 'string' },
      'b-env': { type: 'string', multiple: true, default: [] },
      seconds: { type: 'string', default: '12' },
      rounds: { type: 'string', default: '4' },
    },
  });
  const seconds = Number(values.seconds);
  const rounds = Number(values.rounds);
  const bEnv = parseEnv(values['b-env']);
  const bRoot = values.b ? path.resolve(values.b) : undefined;
  const bLabel =
    [bRoot, ...Object.entries(bEnv).map(([k, v]) => `${k}=${v}`)].filter(Boolean).join(' ') ||
    'the same build (A/A)';
  console.log(`A: this checkout; B: ${bLabel}; ${rounds} rounds of ${seconds} s, 50 devices each`);

  const sides: Side[] = [];
  try {
    sides.push(await Side.start({}));
    sides.push(await Side.start({ root: bRoot, env: bEnv }));
    const [a, b] = sides;
    const ids = new IdMaker();
    const devices = [await prepareDevices(a.api, 50, ids), await prepareDevices(b.api, 50, ids)];
    // Warm-up: the first seconds of a fresh server run colder code (JIT) and caches.
    await Promise.all([a.run(devices[0], 5, ids), b.run(devices[1], 5, ids)]);

    const serverRatios: number[] = [];
    const postgresRatios: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      const [ra, rb] = await Promise.all([
        a.run(devices[0], seconds, ids),
        b.run(devices[1], seconds, ids),
      ]);
      const server = [msPerCycle(ra, ra.cpu.serverPct), msPerCycle(rb, rb.cpu.serverPct)];
      const postgres = [msPerCycle(ra, ra.cpu.postgresPct), msPerCycle(rb, rb.cpu.postgresPct)];
      serverRatios.push(server[1] / server[0]);
      postgresRatios.push(postgres[1] / postgres[0]);
      const errors = ra.errors + rb.errors;
      console.log(
        `round ${round}: A ${ra.cyclesPerSecond.toFixed(0)} cycles/s, server ${server[0].toFixed(2)} ms ` +
          `and PostgreSQL ${postgres[0].toFixed(2)} ms a cycle | B ${rb.cyclesPerSecond.toFixed(0)} cycles/s, ` +
          `${server[1].toFixed(2)} ms and ${postgres[1].toFixed(2)} ms | B/A server ` +
          `${serverRatios.at(-1)!.toFixed(2)}, PostgreSQL ${postgresRatios.at(-1)!.toFixed(2)}` +
          (errors
            ? ` | errors A ${JSON.stringify(ra.errorsByStatus)} B ${JSON.stringify(rb.errorsByStatus)}`
            : ''),
      );
    }
    const range = (ratios: number[]) =>
      `median ${percentile(ratios, 50).toFixed(2)} (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)})`;
    console.log(
      `B/A CPU per cycle: server ${range(serverRatios)}, PostgreSQL ${range(postgresRatios)}`,
    );
  } finally {
    for (const side of sides.reverse()) await side.stop();
  }
}

runMain(main);
