/** Small numeric and formatting helpers for the benchmark report, and its progress log. */

const startedAt = performance.now();

/** Progress lines go to stderr with the time since start, so stdout holds just the report. */
export const log = (line: string): void =>
  console.error(`[${((performance.now() - startedAt) / 1000).toFixed(1).padStart(5)} s] ${line}`);

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  // Nearest rank: p99 of 200 samples is the 198th value, a sample that was really observed.
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export const median = (values: readonly number[]): number => percentile(values, 50);

export const round = (value: number, digits = 2): number => {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
};

export const ms = (value: number): string =>
  value >= 100 ? `${value.toFixed(0)} ms` : `${value.toFixed(value >= 10 ? 1 : 2)} ms`;

export const bytes = (value: number): string =>
  value >= 1 << 20
    ? `${(value / (1 << 20)).toFixed(1)} MiB`
    : value >= 1024
      ? `${(value / 1024).toFixed(1)} KiB`
      : `${value} B`;

export const count = (value: number): string => Math.round(value).toLocaleString('en-US');

export const ratio = (value: number): string => `${value.toFixed(2)}x`;

export const pct = (value: number): string => `${value.toFixed(0)}%`;

/** One line of the printed report: a figure, the target it is held against, and the verdict. */
export type ReportRow = {
  section: string;
  metric: string;
  value: string;
  target?: string;
  /** undefined: informative only, no target. */
  pass?: boolean;
};

export function printReport(rows: readonly ReportRow[]): void {
  const headers = ['', 'metric', 'measured', 'target', ''];
  const cells = rows.map((row) => [
    row.section,
    row.metric,
    row.value,
    row.target ?? '',
    row.pass === undefined ? '' : row.pass ? 'PASS' : 'FAIL',
  ]);
  const widths = headers.map((header, i) =>
    Math.max(header.length, ...cells.map((line) => line[i].length)),
  );
  const line = (values: string[]) =>
    values
      .map((value, i) => value.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  console.log(line(headers));
  console.log(widths.map((width) => '-'.repeat(width)).join('  '));
  let section = '';
  for (const values of cells) {
    // Print each section name once, so the table reads as groups.
    const shown = values[0] === section ? ['', ...values.slice(1)] : values;
    section = values[0];
    console.log(line(shown));
  }
}
