import fs from 'node:fs';
import { Client } from 'pg';

/**
 * Linux /proc readers: the server's memory, and the CPU of the server, its PostgreSQL backends,
 * the driver and the whole machine, so the report can tell where the time of a phase went.
 */

/** Kernel clock ticks per second for /proc/<pid>/stat and /proc/stat (USER_HZ, 100 on Linux). */
const CLOCK_TICKS = 100;

function statusField(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
  if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** Pids: the app's processes (see appPids); their figures are summed. */
type Pids = number | readonly number[];
const each = (pids: Pids): readonly number[] => (typeof pids === 'number' ? [pids] : pids);
const sum = (pids: Pids, read: (pid: number) => number) =>
  each(pids).reduce((total, pid) => total + read(pid), 0);

/**
 * The app's processes: `pid` and its descendants (the workers under APP_WORKERS), but not
 * PostgreSQL, whose embedded server is a child of the app too.
 */
export function appPids(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) === 'postgres') continue;
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  const found = [pid];
  for (let i = 0; i < found.length; i++) found.push(...(children.get(found[i]) ?? []));
  return found;
}

export const rssBytes = (pids: Pids): number => sum(pids, (pid) => statusField(pid, 'VmRSS'));

/**
 * Resets the process's peak RSS (VmHWM) to its current RSS, so that VmHWM read afterwards is the
 * peak of what happened in between, even a spike shorter than the sampling interval.
 * Returns false where the kernel refuses (then only the samples count).
 */
export function resetPeakRss(pids: Pids): boolean {
  try {
    for (const pid of each(pids)) fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Summed over several processes, an upper bound of their peak together. */
export const peakRssBytes = (pids: Pids): number => sum(pids, (pid) => statusField(pid, 'VmHWM'));

/** Samples RSS every `intervalMs` until stopped; returns the highest value seen. */
export function sampleRss(pids: Pids, intervalMs = 2): { stop(): number } {
  let peak = rssBytes(pids);
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssBytes(pids));
    } catch {
      // The process is gone; the caller finds out on its own.
    }
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}

/** CPU seconds (user + system) the processes have used so far. */
export function processCpuSeconds(pids: Pids): number {
  return sum(pids, (pid) => {
    try {
      return oneProcessCpuSeconds(pid);
    } catch {
      return 0; // a worker that exited: its time is lost to "other"
    }
  });
}

function oneProcessCpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces: fields are counted after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the full line, 12 and 13 after the name.
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** CPU seconds of every process on the machine so far, by pid (its threads included). */
function everyProcessCpuSeconds(): Map<number, number> {
  const seconds = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      seconds.set(Number(entry), oneProcessCpuSeconds(Number(entry)));
    } catch {
      // gone meanwhile
    }
  }
  return seconds;
}

/**
 * Busy and total CPU seconds of the whole machine (all cores) so far, from the kernel's sampled
 * counters; busy includes steal: time the hypervisor gave this VM's cores to someone else.
 */
export function machineCpuSeconds(): { busy: number; total: number; steal: number } {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0];
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line
    .split(/\s+/)
    .slice(1, 9)
    .map(Number);
  const busy = user + nice + system + irq + softirq + steal;
  return {
    busy: busy / CLOCK_TICKS,
    total: (busy + idle + iowait) / CLOCK_TICKS,
    steal: steal / CLOCK_TICKS,
  };
}

/** How a phase used the machine, as percentages of one core. */
export type CpuShare = {
  wallSeconds: number;
  serverCpuSeconds: number;
  /** The benchmark process itself (the load driver), from process.cpuUsage(). */
  driverPct: number;
  serverPct: number;
  /** The PostgreSQL backends connected to the benchmark's database (the app's pool and ours). */
  postgresPct: number;
  /**
   * Every other process on the machine, from its own CPU counter: PostgreSQL's shared background
   * processes (WAL writer, autovacuum) and anything else running, e.g. other people's builds. A
   * process that both started and ended during the phase is missed.
   */
  otherPct: number;
  /** Cores the hypervisor gave to other VMs meanwhile (steal): it slows every process alike. */
  stealPct: number;
  /**
   * All cores together (200% is a saturated 2-core machine), from the kernel's sampled counters.
   * Not the sum of the above: while the machine is mostly idle with short bursts of work (the open
   * loop) these can be far from what every process's own counter adds up to (80% against 46% of a
   * core, second by second, in one run with no other process busy; below it in another).
   */
  machinePct: number;
};

/** CPU seconds of each PostgreSQL backend serving this database now. */
async function backendCpuSeconds(sql: Client): Promise<Map<number, number>> {
  const { rows } = await sql.query<{ pid: number }>(
    'SELECT "pid" FROM pg_stat_activity WHERE "datname" = current_database()',
  );
  const seconds = new Map<number, number>();
  for (const { pid } of rows) {
    try {
      seconds.set(pid, oneProcessCpuSeconds(pid));
    } catch {
      // A backend that just exited (or one we may not read): its time is lost to "other".
    }
  }
  return seconds;
}

/** Starts measuring; call the returned function at the end of the phase. */
export async function measureCpu(serverPid: number, sql: Client): Promise<() => Promise<CpuShare>> {
  const serverPids = appPids(serverPid);
  const backends = await backendCpuSeconds(sql);
  const everyone = everyProcessCpuSeconds();
  const startedAt = performance.now();
  const driver = process.cpuUsage();
  const server = processCpuSeconds(serverPids);
  const machine = machineCpuSeconds();
  return async () => {
    const wallSeconds = (performance.now() - startedAt) / 1000;
    const used = process.cpuUsage(driver);
    const driverSeconds = (used.user + used.system) / 1e6;
    const serverSeconds = processCpuSeconds(serverPids) - server;
    const machineNow = machineCpuSeconds();
    const busy = machineNow.busy - machine.busy;
    let postgresSeconds = 0;
    // A backend that connected during the phase spent all its time in it.
    const backendsNow = await backendCpuSeconds(sql);
    for (const [pid, now] of backendsNow) {
      postgresSeconds += now - (backends.get(pid) ?? 0);
    }
    const counted = new Set([
      process.pid,
      ...serverPids,
      ...backends.keys(),
      ...backendsNow.keys(),
    ]);
    let otherSeconds = 0;
    for (const [pid, now] of everyProcessCpuSeconds()) {
      if (!counted.has(pid)) otherSeconds += now - (everyone.get(pid) ?? 0);
    }
    const share = (seconds: number) => (100 * seconds) / wallSeconds;
    return {
      wallSeconds,
      serverCpuSeconds: serverSeconds,
      driverPct: share(driverSeconds),
      serverPct: share(serverSeconds),
      postgresPct: share(postgresSeconds),
      otherPct: share(otherSeconds),
      stealPct: share(machineNow.steal - machine.steal),
      machinePct: share(busy),
    };
  };
}

/**
 * Waits (up to `maxSeconds`) until the whole machine has been below `busyPct` of one core for a
 * second: after a bulk seed the kernel and PostgreSQL go on writing and tidying for a while, and
 * a phase measured then would time that too. Returns the seconds waited and the last reading.
 */
export async function waitForQuietMachine(
  busyPct = 25,
  maxSeconds = 60,
): Promise<{ waitedSeconds: number; busyPct: number }> {
  const startedAt = performance.now();
  let last = Infinity;
  while ((performance.now() - startedAt) / 1000 < maxSeconds) {
    const before = machineCpuSeconds().busy;
    const t0 = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    last = (100 * (machineCpuSeconds().busy - before)) / ((performance.now() - t0) / 1000);
    if (last < busyPct) break;
  }
  return { waitedSeconds: (performance.now() - startedAt) / 1000, busyPct: last };
}
