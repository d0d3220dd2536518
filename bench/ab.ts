/**
 * A/B comparison: `npm run bench:ab -- [--a <checkout>] [--b <checkout>] [--b-env NAME=VALUE]...
 * [--rounds n] [--quick]`.
 *
 * Two servers, A (this checkout's build, or another's with --a) and B (the build of another
 * checkout, e.g. a worktree of another commit, and/or other settings), each on a fresh database of the same PostgreSQL,
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
import { Device } from './api';
import { Cleanup, runMain } from './cleanup';
import { Fleet, closedLoop, prepareFleet } from './load';
import * as measure from './measure';
import { startPostgres } from './postgres';
import { count, log, median, ms } from './stats';

const SLICE_SECONDS = 0.625;

type Side = measure.Target & {
  incremental: measure.IncrementalDevice;
  puller: Device & { records: number };
  fleet: Fleet;
};

/** `figure` 8 times on each side, in the order A B, B A, A B, ...; each side's median. */
async function alternating(sides: Side[], figure: (side: Side) => Promise<number>) {
  const values: number[][] = [[], []];
  for (let run = 0; run < 16; run++) {
    const k = [0, 1, 1, 0][run % 4];
    values[k].push(await figure(sides[k]));
  }
  return values.map(median);
}

async function ab(cleanup: Cleanup): Promise<void> {
  const { values } = parseArgs({
    options: {
      a: { type: 'string' },
      b: { type: 'string' },
      'b-env': { type: 'string', multiple: true, default: [] },
      rounds: { type: 'string', default: '5' },
      quick: { type: 'boolean', default: false },
    },
  });
  const sizes = values.quick ? measure.QUICK : measure.FULL;
  const rounds = Number(values.rounds);
  const slices = values.quick ? 16 : 32;
  const aRoot = values.a && path.resolve(values.a);
  const bRoot = values.b && path.resolve(values.b);
  const bEnv = Object.fromEntries(
    values['b-env'].map((pair) => {
      if (!/^\w+=/.test(pair)) throw new Error(`--b-env wants NAME=VALUE, got ${pair}`);
      return pair.split(/=(.*)/s, 2) as [string, string];
    }),
  );
  const b = [bRoot, ...values['b-env']].filter(Boolean).join(' ') || 'the same (an A/A run)';
  const a = aRoot ?? 'this checkout';
  console.log(`A: ${a}; B: ${b}; ${rounds} rounds, ${values.quick ? 'quick' : 'full'}`);

  const postgres = await startPostgres();
  cleanup.add(() => postgres.stop());
  const sides: Side[] = [];
  for (const options of [{ root: aRoot }, { root: bRoot, env: bEnv }]) {
    log(`seeding ${'AB'[sides.length]}`);
    const target = await measure.startTarget(postgres.url, cleanup, options);
    const incremental = await measure.prepareIncremental(target, sizes);
    await measure.seedBulk(target, sizes);
    const puller = await measure.prepareFirstPull(target, sizes);
    const fleet = await prepareFleet(target.server.url, sizes.loadDevices, target.ids);
    sides.push({ ...target, incremental, puller, fleet });
  }

  const results: Array<Record<string, number[]>> = [];
  for (let round = 0; round <= rounds; round++) {
    const cycles = [0, 0];
    const failed: string[] = [];
    for (let i = 0; i < slices; i++) {
      const k = [0, 1, 1, 0][(i + 2 * (round % 2)) % 4];
      const load = await closedLoop(sides[k].fleet, SLICE_SECONDS);
      cycles[k] += load.cycles;
      for (const [status, n] of Object.entries(load.failures))
        failed.push(`${'AB'[k]} ${n} x ${status}`);
    }
    const latencies = await measure.incrementalLatencies(
      sides.map((side) => side.incremental),
      sizes.incrementalPulls / 2,
    );
    const result = {
      'closed-loop cycles/s': cycles.map((n) => n / ((slices / 2) * SLICE_SECONDS)),
      'first-pull records/s': await alternating(sides, async (side) => {
        const pull = await measure.firstPull(side, side.puller);
        return side.puller.records / (pull.ms / 1000);
      }),
      'push records/s': await alternating(sides, async (side) => {
        const push = await measure.pushRun(side, sizes);
        return push.records / (push.ms / 1000);
      }),
      'incremental p50 ms': latencies.map(median),
    };
    const line = Object.entries(result).map(
      ([name, [av, bv]]) =>
        `${name} A ${name.endsWith('ms') ? ms(av) : count(av)}, B/A ${(bv / av).toFixed(2)}`,
    );
    if (failed.length) line.push(`failed: ${failed.join(', ')}`);
    log(`${round ? `round ${round}` : 'warm-up'}: ${line.join('; ')}`);
    if (round) results.push(result);
  }

  console.log(
    `\nB/A over ${rounds} rounds, median (range); above 1 B is faster, but for the latency`,
  );
  for (const name of Object.keys(results[0])) {
    const ratios = results.map((result) => result[name][1] / result[name][0]);
    const range = `${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}`;
    console.log(`  ${name.padEnd(22)} ${median(ratios).toFixed(2)} (${range})`);
  }
}

runMain(ab);
