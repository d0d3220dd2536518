/**
 * The bandwidth and retention figures (`npm run bench:retention [-- --quick]`):
 * - a first pull of 100k records as it goes on the wire, plain, gzip and br: bytes, time, the
 *   server's CPU for it and its RSS growth (the compressed answer is streamed, never held whole);
 * - the tombstone purge on a table of 1M rows (half of them tombstones past the retention) while
 *   the closed loop runs: tombstones purged per second, and the loop's request p99 on that
 *   server against a server whose purge is off, side by side (alternating slices).
 */
import * as api from './api';
import { Cleanup, runMain } from './cleanup';
import { closedLoop, prepareFleet } from './load';
import * as measure from './measure';
import { analyze, startPostgres } from './postgres';
import { SYNC_TABLES } from './records';
import { count, log, median, mib, ms, percentile } from './stats';

const SLICE_SECONDS = 0.625;

async function retention(cleanup: Cleanup): Promise<void> {
  const quick = process.argv.includes('--quick');
  const sizes = quick ? measure.QUICK : measure.FULL;
  const postgres = await startPostgres();
  cleanup.add(() => postgres.stop());

  // First pulls, plain and compressed, in turn, after a warm-up of each.
  const target = await measure.startTarget(postgres.url, cleanup);
  const puller = await measure.prepareFirstPull(target, sizes);
  const encodings = ['identity', 'gzip', 'br'];
  const runs = new Map(encodings.map((e) => [e, [] as Array<Record<string, number>>]));
  for (let run = 0; run <= sizes.runs; run++) {
    for (const encoding of encodings) {
      const rssBefore = target.server.rssBytes();
      let peak = rssBefore;
      const sampler = setInterval(() => (peak = Math.max(peak, target.server.rssBytes())), 2);
      const cpuBefore = target.server.cpuMs();
      const reply = await api.compressedPull(target.server.url, puller, encoding);
      const cpu = target.server.cpuMs() - cpuBefore;
      clearInterval(sampler);
      if (reply.status !== 200)
        throw new Error(`a ${encoding} first pull answered ${reply.status}`);
      if (run > 0) {
        runs.get(encoding)!.push({
          bytes: reply.body.length,
          ms: reply.ms,
          cpuMs: cpu,
          rss: Math.max(peak, target.server.rssBytes()) - rssBefore,
        });
      }
    }
  }
  const mid = (encoding: string, key: string) => median(runs.get(encoding)!.map((r) => r[key]));

  // The purge: two servers on databases seeded alike, one purging (every second, with a
  // retention of 90 days), one not.
  const env = { SYNC_TOMBSTONE_RETENTION_MS: String(90 * 86_400_000) };
  const purging = await measure.startTarget(postgres.url, cleanup, {
    env: { ...env, SYNC_PURGE_INTERVAL_MS: '1000' },
  });
  const idle = await measure.startTarget(postgres.url, cleanup, {
    env: { ...env, SYNC_PURGE_INTERVAL_MS: '0' },
  });
  const fleets = [];
  for (const side of [purging, idle]) {
    await measure.seedBulk(side, sizes);
    fleets.push(await prepareFleet(side.server.url, sizes.loadDevices, side.ids));
  }
  // Half of every table's rows deleted 100 days ago: tombstones past the retention. The purging
  // server's last, just before the loop starts: it starts on them within a second.
  let tombstones = 0;
  for (const side of [idle, purging]) {
    if (side === purging) await analyze(idle.sql);
    for (const table of SYNC_TABLES) {
      const { rowCount } = await side.sql.query(
        `UPDATE "${table.name}" SET "deleted_at" = now() - interval '100 days' WHERE random() < 0.5`,
      );
      if (side === purging) tombstones += rowCount ?? 0;
    }
  }
  log(`${count(tombstones)} tombstones to purge; closed loop on both sides meanwhile`);
  const left = async () => {
    const counts = SYNC_TABLES.map(
      (table) =>
        `(SELECT count(*) FROM "${table.name}" WHERE "deleted_at" < now() - interval '90 days')`,
    );
    const { rows } = await purging.sql.query<{ n: string }>(`SELECT ${counts.join(' + ')} AS "n"`);
    return Number(rows[0].n);
  };
  const latencies: number[][] = [[], []];
  const startedAt = performance.now();
  let remaining = await left();
  for (let i = 0; remaining > 0 && performance.now() - startedAt < 600_000; i++) {
    const k = [0, 1, 1, 0][i % 4];
    latencies[k].push(...(await closedLoop(fleets[k], SLICE_SECONDS)).latencies);
    if (i % 4 === 3) remaining = await left();
  }
  const seconds = (performance.now() - startedAt) / 1000;

  console.log(`\nFirst pull of ${count(puller.records)} records, medians of ${sizes.runs} runs:`);
  for (const encoding of encodings) {
    console.log(
      `  ${encoding.padEnd(8)} ${count(mid(encoding, 'bytes') / 1024).padStart(6)} KiB on the wire, ` +
        `${ms(mid(encoding, 'ms'))}, server CPU ${ms(mid(encoding, 'cpuMs'))}, ` +
        `RSS growth ${mib(mid(encoding, 'rss'))}`,
    );
  }
  console.log(
    `\nPurge: ${count(tombstones - remaining)} tombstones in ${seconds.toFixed(0)} s ` +
      `(${count((tombstones - remaining) / seconds)}/s) on ${count(tombstones * 2)} rows` +
      `${remaining > 0 ? `, ${count(remaining)} left` : ''}, under the closed loop`,
  );
  console.log(
    `  closed loop request p50/p99: ${ms(median(latencies[0]))} / ${ms(percentile(latencies[0], 99))} ` +
      `on the purging server, ${ms(median(latencies[1]))} / ${ms(percentile(latencies[1], 99))} ` +
      'on the other (alternating slices)',
  );
}

runMain(retention);
