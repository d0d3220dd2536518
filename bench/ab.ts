/**
 * A/B comparison: `npm run bench:ab -- [--b <checkout>] [--b-env NAME=VALUE]... [--rounds n] [--quick]`.
 *
 * Two servers, A (this checkout's build) and B (the build of another checkout, e.g. a worktree of
 * another commit, and/or other settings), each on a fresh database of the same PostgreSQL,
 * seeded alike. This machine's speed drifts by more than a change is worth from one minute to
 * the next, so A and B are measured in the same rounds, in alternation, and each round gives
 * B/A; the report is the median and the range over the rounds:
 * - closed loop: 16 slices of 0.625 s per round (32 in a full run), A B B A A B B A ... (B A A B
 *   ... in the next round), each with the full bench's 100 devices; B/A of the cycles. Short
 *   alternating slices follow the drift best: in quick A/A runs on a busy machine, B/A spread
 *   0.94-1.16 over the rounds with these, 0.77-1.32 with 1.25 s slices, 0.75-1.53 with 2.5 s,
 *   and 0.68-1.22 with both loads at the same time (then the servers compete for the cores, and
 *   what one wins the other loses).
 * - first pull and push: A B, B A, A B, ... 8 times each; B/A of the medians.
 * - incremental pulls: A and B request by request; B/A of the p50s.
 * Without --b and --b-env it is an A/A run: its spread is the harness's own noise.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { Device } from './api';
import { Cleanup, runMain } from './cleanup';
import { VirtualDevice, closedLoop, prepareDevices } from './load';
import {
  FULL,
  IncrementalDevice,
  QUICK,
  Target,
  firstPull,
  incrementalLatencies,
  prepareFirstPull,
  prepareIncremental,
  pushRun,
  seedBulk,
} from './measure';
import { createDatabase, startPostgres } from './postgres';
import { IdMaker } from './records';
import { Server } from './server';
import { count, log, median, ms } from './stats';

/** Closed-loop slices this short followed the machine's drift best in A/A runs (see above). */
const SLICE_SECONDS = 0.625;

type Side = Target & { incremental: IncrementalDevice; puller: Device; devices: VirtualDevice[] };

/** The figures compared, each as [A, B] in a round. */
type Round = {
  closedLoopCyclesPerSecond: number[];
  firstPullRecordsPerSecond: number[];
  pushRecordsPerSecond: number[];
  incrementalP50Ms: number[];
};

/** `measure` 8 times on each side, in the order A B, B A, A B, ...; each side's median. */
async function alternating(sides: Side[], measure: (side: Side) => Promise<number>) {
  const values: number[][] = [[], []];
  for (let run = 0; run < 16; run++) {
    const k = [0, 1, 1, 0][run % 4];
    values[k].push(await measure(sides[k]));
  }
  return values.map(median);
}

async function startSide(
  postgresUrl: string,
  cleanup: Cleanup,
  options: { root?: string; env?: Record<string, string> },
  sizes: typeof FULL,
): Promise<Side> {
  const database = await createDatabase(postgresUrl);
  cleanup.add(() => database.drop());
  const server = await Server.start(database.url, options);
  cleanup.add(() => server.stop());
  const sql = new Client({ connectionString: database.url });
  await sql.connect();
  cleanup.add(() => sql.end());
  const target = { server, sql, ids: new IdMaker() };
  const incremental = await prepareIncremental(target, sizes);
  await seedBulk(target, sizes);
  const puller = await prepareFirstPull(target, sizes);
  const devices = await prepareDevices(server.url, sizes.loadDevices, target.ids);
  return { ...target, incremental, puller, devices };
}

async function ab(cleanup: Cleanup): Promise<void> {
  const { values } = parseArgs({
    options: {
      b: { type: 'string' },
      'b-env': { type: 'string', multiple: true, default: [] },
      rounds: { type: 'string', default: '5' },
      quick: { type: 'boolean', default: false },
    },
  });
  const sizes = values.quick ? QUICK : FULL;
  const rounds = Number(values.rounds);
  const slices = values.quick ? 16 : 32;
  const bEnv = Object.fromEntries(
    values['b-env'].map((pair) => {
      const at = pair.indexOf('=');
      if (at < 1) throw new Error(`--b-env wants NAME=VALUE, got ${pair}`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
  const bRoot = values.b && path.resolve(values.b);
  const b = [bRoot, ...values['b-env']].filter(Boolean).join(' ') || 'the same (an A/A run)';
  console.log(`A: this checkout; B: ${b}; ${rounds} rounds, ${values.quick ? 'quick' : 'full'}`);

  const postgres = await startPostgres();
  cleanup.add(() => postgres.stop());
  log('seeding A');
  const a = await startSide(postgres.url, cleanup, {}, sizes);
  log('seeding B');
  const sides = [a, await startSide(postgres.url, cleanup, { root: bRoot, env: bEnv }, sizes)];

  const results: Round[] = [];
  for (let round = 0; round <= rounds; round++) {
    const cycles = [0, 0];
    const failed: string[] = [];
    for (let i = 0; i < slices; i++) {
      const k = [0, 1, 1, 0][(i + 2 * (round % 2)) % 4];
      const side = sides[k];
      const load = await closedLoop(side.server.url, side.devices, SLICE_SECONDS, side.ids);
      cycles[k] += load.cycles;
      for (const [status, n] of Object.entries(load.failures))
        failed.push(`${'AB'[k]}: ${n} x ${status}`);
    }
    const result: Round = {
      closedLoopCyclesPerSecond: cycles.map((n) => n / ((slices / 2) * SLICE_SECONDS)),
      firstPullRecordsPerSecond: await alternating(sides, async (side) => {
        const pull = await firstPull(side, side.puller);
        return pull.records / (pull.ms / 1000);
      }),
      pushRecordsPerSecond: await alternating(sides, async (side) => {
        const push = await pushRun(side, sizes);
        return push.records / (push.ms / 1000);
      }),
      incrementalP50Ms: (
        await incrementalLatencies(
          sides.map((side) => ({ url: side.server.url, device: side.incremental })),
          sizes.incrementalPulls / 2,
        )
      ).map(median),
    };
    const line = Object.entries(result)
      .map(
        ([name, [av, bv]]) =>
          `${name} A ${name.endsWith('Ms') ? ms(av) : count(av)} B/A ${(bv / av).toFixed(2)}`,
      )
      .join(', ');
    log(
      `${round ? `round ${round}` : 'warm-up'}: ${line}${failed.length ? `; failed: ${failed.join(' ')}` : ''}`,
    );
    if (round) results.push(result);
  }

  console.log(
    `\nB/A over ${rounds} rounds: median (range); above 1 B is faster, except for the latency`,
  );
  for (const name of Object.keys(results[0]) as Array<keyof Round>) {
    const ratios = results.map((result) => result[name][1] / result[name][0]);
    const range = `${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}`;
    console.log(`  ${name.padEnd(28)} ${median(ratios).toFixed(2)} (${range})`);
  }
}

runMain(ab);
