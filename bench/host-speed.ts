import fs from 'node:fs';
import os from 'node:os';
import { buildGames, IdMaker } from './records';
import { median } from './stats';

/**
 * Which processor, and how fast one of its cores is at the moment. Hosts of the same kind here
 * have run the same code at 2x apart (their model name is just "AMD EPYC"), so a figure is only
 * comparable with another next to these two readings.
 */

function cpuInfoField(name: string): string | undefined {
  try {
    const text = fs.readFileSync('/proc/cpuinfo', 'utf8');
    return new RegExp(`^${name}\\s*:\\s*(.+)$`, 'm').exec(text)?.[1].trim();
  } catch {
    return undefined; // not Linux: the model name alone
  }
}

/** e.g. "AMD EPYC (family 26, model 2)": the family tells a CPU generation apart. */
export function cpuName(): string {
  const model = os.cpus()[0]?.model ?? 'unknown';
  const family = cpuInfoField('cpu family');
  const number = cpuInfoField('model');
  return family && number ? `${model} (family ${family}, model ${number})` : model;
}

/** Records of the shape the server serialises; built once, so every run times the same work. */
const WORKLOAD = (() => {
  const records = buildGames(100, 3, new IdMaker());
  return [records.games, records.game_players, records.rounds, records.scores].flat();
})();

/**
 * The work a sync cycle is made of on the JavaScript side (JSON out and in), 100 times over
 * 1,000 records; median of seven runs after a warm-up, so a passing hiccup does not count.
 * Milliseconds: lower is faster.
 */
export function calibrate(): number {
  const once = () => {
    const startedAt = performance.now();
    for (let i = 0; i < 100; i++) JSON.parse(JSON.stringify(WORKLOAD));
    return performance.now() - startedAt;
  };
  once();
  return median(Array.from({ length: 7 }, once));
}
