/** What was measured on what: the machine, the printed table and its notes. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { AppProcess, BenchDatabase, MAIN_JS, ROOT } from './app-process';
import { cpuName } from './host-speed';
import { LoadResult, OpenLoopResult } from './load';
import { CpuPcts, FirstPullResult, IncrementalResult, PushResult } from './phases';
import { TABLES } from './records';
import * as fmt from './stats';
import { log, ReportRow } from './stats';

function git(args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

function newestMtime(dir: string, suffix: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith(suffix)) {
      newest = Math.max(newest, fs.statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
    }
  }
  return newest;
}

/** The benchmark measures dist/, not src/: say so when src/ changed after the last build. */
export function checkBuild(): { builtAt: string; staleBuild: boolean } {
  if (!fs.existsSync(MAIN_JS)) {
    throw new Error(
      `${path.relative(ROOT, MAIN_JS)} is missing: the benchmark runs the production build. ` +
        'Run `npm run build` first.',
    );
  }
  const built = newestMtime(path.dirname(MAIN_JS), '.js');
  const staleBuild = newestMtime(path.join(ROOT, 'src'), '.ts') > built;
  if (staleBuild) {
    log(
      'WARNING: src/ changed after the last build; run `npm run build` to measure the current code',
    );
  }
  return { builtAt: new Date(built).toISOString(), staleBuild };
}

export async function machineInfo(
  sql: Client,
  quick: boolean,
  database: BenchDatabase,
  app: AppProcess,
) {
  const { rows } = await sql.query<{ server_version: string }>('SHOW server_version');
  const cpus = os.cpus();
  return {
    cpuModel: cpuName(),
    cores: cpus.length,
    memoryBytes: os.totalmem(),
    node: process.version,
    postgres: rows[0].server_version,
    database: database.mode,
    size: quick ? 'quick' : 'full',
    date: new Date().toISOString(),
    commit: git(['rev-parse', '--short', 'HEAD']),
    uncommittedServerChanges: Boolean(git(['status', '--porcelain', 'src', 'migrations'])),
    appSettings: app.settings,
  };
}

const cpuText = (share: CpuPcts & { driverPct?: number }) =>
  [
    share.driverPct === undefined ? '' : `driver ${fmt.pct(share.driverPct)}, `,
    `server ${fmt.pct(share.serverPct)}, PostgreSQL ${fmt.pct(share.postgresPct)}, `,
    `other ${fmt.pct(share.otherPct)}, steal ${fmt.pct(share.stealPct)} (of one core)`,
  ].join('');

/** CPU milliseconds per completed cycle: what one sync costs the server and PostgreSQL. */
const perCycle = (result: LoadResult) => {
  const cpuMs = (pctOfCore: number) => (pctOfCore * result.seconds * 10) / result.cycles;
  return `server ${fmt.ms(cpuMs(result.cpu.serverPct))}, PostgreSQL ${fmt.ms(cpuMs(result.cpu.postgresPct))}`;
};

export type Results = {
  firstPull: FirstPullResult;
  push: PushResult;
  incremental: { small: IncrementalResult; big: IncrementalResult; p50Ratio: number };
  load: { devices: number; closed: LoadResult; open: OpenLoopResult };
};

export function reportRows(r: Results): ReportRow[] {
  const { firstPull: f, push: p, incremental: inc, load } = r;
  const rows: ReportRow[] = [];
  let section = '';
  const add = (metric: string, value: string, target?: string, pass?: boolean) =>
    rows.push({ section, metric, value, target, pass });
  const errors = (result: LoadResult) =>
    Object.entries(result.errorsByStatus)
      .map(([status, n]) => `${n} x ${status}`)
      .join(', ') || 'none';

  section = '1 first pull';
  add('records', fmt.count(f.records));
  add(`server latency (median of ${f.runs})`, fmt.ms(f.serverMedianMs));
  add('records/s', fmt.count(f.recordsPerSecond), '>= 100,000', f.recordsPerSecond >= 100_000);
  add('response size', fmt.bytes(f.responseBytes));
  add('raw SQL (json_agg, pg client)', fmt.ms(f.rawMedianMs));
  add('server / raw', fmt.ratio(f.ratio), '<= 1.5x', f.ratio <= 1.5);
  add('CPU during the pull', cpuText(f.cpu));

  section = '2 push';
  add('records', fmt.count(p.records));
  add(`server latency (median of ${p.runs})`, fmt.ms(p.serverMedianMs));
  add('records/s', fmt.count(p.recordsPerSecond));
  add('body size', fmt.bytes(p.bodyBytes));
  add('raw SQL (unnest upserts, pg client)', fmt.ms(p.rawMedianMs));
  add('server / raw', fmt.ratio(p.ratio), '<= 2x', p.ratio <= 2);
  add('CPU during the push', cpuText(p.cpu));

  for (const result of [inc.small, inc.big]) {
    section = `3 incremental @ ${fmt.count(result.databaseRows)} rows`;
    const plans = TABLES.map((table) => result.explain[table]);
    const indexed = plans.filter((plan) => plan.usesDeviceStampIndex).length;
    const kinds = [...new Set(plans.map((plan) => plan.scan?.replace(/ (using|on) .*/, '')))];
    add(`p50 (${result.requests} pulls of 10)`, fmt.ms(result.p50Ms), '< 10 ms', result.p50Ms < 10);
    add('p99', fmt.ms(result.p99Ms));
    add(
      'EXPLAIN: IDX_<table>_device_id_stamp',
      `${indexed} of ${TABLES.length} tables (${kinds.join(', ')})`,
      'all',
      indexed === TABLES.length,
    );
  }
  section = '3 incremental';
  add('p50 big / small', fmt.ratio(inc.p50Ratio), '<= 1.5x', inc.p50Ratio <= 1.5);

  section = '4a closed loop';
  const closed = load.closed;
  add(
    `sync cycles/s (${load.devices} devices)`,
    fmt.count(closed.cyclesPerSecond),
    '>= 500',
    closed.cyclesPerSecond >= 500,
  );
  add(`errors (409s: ${closed.conflicts409})`, errors(closed), '0', closed.errors === 0);
  add('cycle p50 / p99', `${fmt.ms(closed.latencyMs.p50)} / ${fmt.ms(closed.latencyMs.p99)}`);
  add('CPU', cpuText(closed.cpu));
  add('CPU per cycle', perCycle(closed));

  section = `4b open loop ${load.open.targetRate}/s`;
  const open = load.open;
  add('cycles/s completed', fmt.count(open.cyclesPerSecond));
  add('cycle p50', fmt.ms(open.latencyMs.p50));
  add('cycle p99', fmt.ms(open.latencyMs.p99), '< 50 ms', open.latencyMs.p99 < 50);
  add(`errors (409s: ${open.conflicts409})`, errors(open), '0', open.errors === 0);
  add('CPU', cpuText(open.cpu));

  section = '5 memory (first pull)';
  const m = f.memory;
  add('RSS before the first big pull', fmt.bytes(m.runs[0].rssBeforeBytes));
  add('peak RSS', fmt.bytes(m.peakRssBytes));
  add(
    'growth (worst run) / response',
    `${fmt.bytes(m.maxGrowthBytes)} / ${fmt.bytes(m.responseBytes)} = ${fmt.ratio(m.growthToResponse)}`,
    '< 2x',
    m.growthToResponse < 2,
  );
  return rows;
}

/** What the reader of the figures should know: a busy machine, a saturated server, a stale build. */
export function reportNotes(r: Results, build: { staleBuild: boolean }): string[] {
  const notes: string[] = [];
  const phases: Array<[string, CpuPcts]> = [
    [
      `the incremental pulls @ ${fmt.count(r.incremental.small.databaseRows)} rows`,
      r.incremental.small.cpu,
    ],
    [
      `the incremental pulls @ ${fmt.count(r.incremental.big.databaseRows)} rows`,
      r.incremental.big.cpu,
    ],
    ['the first pull', r.firstPull.cpu],
    ['the push', r.push.cpu],
    ['the closed loop', r.load.closed.cpu],
    ['the open loop', r.load.open.cpu],
  ];
  for (const [phase, cpu] of phases) {
    if (cpu.otherPct > 25) {
      notes.push(
        `During ${phase}, processes outside the benchmark used ${fmt.pct(cpu.otherPct)} of a core ` +
          `(of ${os.cpus().length}): its figures are pessimistic.`,
      );
    }
    if (cpu.stealPct > 10) {
      notes.push(
        `During ${phase}, the hypervisor gave ${fmt.pct(cpu.stealPct)} of a core to other machines ` +
          '(steal): its figures are pessimistic.',
      );
    }
  }
  for (const [phase, result] of [
    ['closed', r.load.closed],
    ['open', r.load.open],
  ] as const) {
    // One process runs the app's JavaScript on one core; APP_WORKERS processes on as many.
    const workers = Number(process.env.APP_WORKERS || 1);
    if (result.cpu.serverPct > 75 * workers) {
      notes.push(
        `In the ${phase} loop the server used ${fmt.pct(result.cpu.serverPct)} of a core with ${workers} process(es): ` +
          `Node runs each one's JavaScript on one core, so it is at or near its limit (${perCycle(result)} of CPU per sync cycle).`,
      );
    }
  }
  if (build.staleBuild) notes.push('src/ changed after the last build: dist/ was measured.');
  return notes;
}
