/**
 * A/B comparison: `npm run bench:ab -- [--b <checkout>] [--b-env NAME=VALUE]... [--rounds n] [--quick]`.
 *
 * Two servers, A (this checkout's build) and B (another checkout's build, e.g. a worktree of
 * another commit, and/or other settings), each on a fresh database of the same PostgreSQL,
 * seeded alike. This machine's speed drifts from one minute to the next by more than a change
 * is worth, so A and B are measured in the same rounds: the closed loops of both run at the same
 * time (half of the devices each), and the single requests alternate A, B (first pull, push:
 * the side that goes first alternates by round; incremental pulls: request by request). Each
 * round gives B/A; the report is the median and the range over the rounds. Without --b and
 * --b-env it is an A/A run: its spread is the harness's own noise.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from 'pg';
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
import { Device } from './api';
import { analyze, createDatabase, startPostgres } from './postgres';
import { IdMaker } from './records';
import { Cleanup, runMain } from './cleanup';
import { Server } from './server';
import { count, log, median, ms } from './stats';

type Side = Target & {
  incremental: IncrementalDevice;
  firstPull: Device;
  devices: VirtualDevice[];
};

/** Per round, each figure of A and of B; higher is better except for the latency. */
type Round = Record<string, [number, number]>;
const FIGURES = [
  'closed-loop cycles/s',
  'first-pull records/s',
  'push records/s',
  'incremental p50 ms (latency)',
];

/** Three runs of `measure` on each side, in the order A B, B A, A B; each side's median. */
async function alternating(sides: Side[], measure: (side: Side) => Promise<number>) {
  const values: number[][] = [[], []];
  for (const order of [
    [0, 1],
    [1, 0],
    [0, 1],
  ]) {
    for (const k of order) values[k].push(await measure(sides[k]));
  }
  return [median(values[0]), median(values[1])] as [number, number];
}

async function ab(cleanup: Cleanup): Promise<void> {
  const { values } = parseArgs({
    options: {
      b: { type: 'string' },
      'b-env': { type: 'string', multiple: true, default: [] },
      rounds: { type: 'string', default: '4' },
      quick: { type: 'boolean', default: false },
    },
  });
  const sizes = values.quick ? QUICK : FULL;
  const rounds = Number(values.rounds);
  const seconds = values.quick ? 5 : 10;
  const bEnv = Object.fromEntries(
    values['b-env'].map((pair) => {
      const at = pair.indexOf('=');
      if (at < 1) throw new Error(`--b-env wants NAME=VALUE, got ${pair}`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
  const b = [values.b && path.resolve(values.b), ...values['b-env']].filter(Boolean).join(' ');
  console.log(`A: this checkout; B: ${b || 'the same (an A/A run)'}; ${rounds} rounds`);

  const postgres = await startPostgres();
  cleanup.add(() => postgres.stop());
  const sides: Side[] = [];
  for (const options of [{}, { root: values.b && path.resolve(values.b), env: bEnv }]) {
    const database = await createDatabase(postgres.url);
    cleanup.add(() => database.drop());
    const server = await Server.start(database.url, options);
    cleanup.add(() => server.stop());
    const sql = new Client({ connectionString: database.url });
    await sql.connect();
    cleanup.add(() => sql.end());
    const target = { server, sql, ids: new IdMaker() };
    log(`${sides.length ? 'B' : 'A'}: seeding`);
    const incremental = await prepareIncremental(target, sizes);
    await seedBulk(target, sizes);
    const pullDevice = await prepareFirstPull(target, sizes);
    const devices = await prepareDevices(server.url, sizes.loadDevices / 2, target.ids);
    await analyze(sql);
    sides.push({ ...target, incremental, firstPull: pullDevice, devices });
  }

  const results: Round[] = [];
  for (let round = 0; round <= rounds; round++) {
    const loads = await Promise.all(
      sides.map((side) => closedLoop(side.server.url, side.devices, round ? seconds : 3, side.ids)),
    );
    const [incrementalA, incrementalB] = await incrementalLatencies(
      sides.map((side) => ({ url: side.server.url, device: side.incremental })),
      sizes.incrementalPulls / 2,
    );
    const result: Round = {
      [FIGURES[0]]: [loads[0].cyclesPerSecond, loads[1].cyclesPerSecond],
      [FIGURES[1]]: await alternating(sides, async (side) => {
        const pull = await firstPull(side, side.firstPull);
        return pull.records / (pull.ms / 1000);
      }),
      [FIGURES[2]]: await alternating(sides, async (side) => {
        const push = await pushRun(side, sizes);
        return push.records / (push.ms / 1000);
      }),
      [FIGURES[3]]: [median(incrementalA), median(incrementalB)],
    };
    const failed = loads.map((load) => JSON.stringify(load.failures)).join(' / ');
    log(
      `${round ? `round ${round}` : 'warm-up'}: ` +
        FIGURES.map((name) => {
          const [a, b] = result[name];
          return `${name} A ${name.includes('ms') ? ms(a) : count(a)}, B/A ${(b / a).toFixed(2)}`;
        }).join('; ') +
        (failed === '{} / {}' ? '' : `; failed requests A / B: ${failed}`),
    );
    if (round) results.push(result);
  }

  console.log(`\nB/A over ${rounds} rounds: median (range)`);
  for (const name of FIGURES) {
    const ratios = results.map((result) => result[name][1] / result[name][0]);
    const range = `${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}`;
    console.log(`  ${name.padEnd(30)} ${median(ratios).toFixed(2)} (${range})`);
  }
}

runMain(ab);
