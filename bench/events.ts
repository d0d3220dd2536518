/**
 * The live changes figures (`npm run bench:events [-- --quick]`): with 1,000 event streams open on
 * one server, the push-to-event latency (a push by one device of an account until its other
 * device's stream has the event) and the server's memory per open stream; then the closed loop
 * of a server with those streams open against one with none, side by side (two servers of this
 * build on one PostgreSQL, in alternating slices as bench:ab runs them).
 */
import http from 'node:http';
import * as api from './api';
import { Cleanup, runMain } from './cleanup';
import { closedLoop, prepareFleet } from './load';
import * as measure from './measure';
import { startPostgres } from './postgres';
import { buildGames, toChanges } from './records';
import { count, log, median, mib, ms, percentile } from './stats';

const SLICE_SECONDS = 0.625;

/** An open stream, with the time each `changes` event arrived. */
type Stream = { arrivals: number[]; close(): void };

function openStream(url: string, device: api.Device): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const arrivals: number[] = [];
    const request = http.get(
      `${url}/api/v1/sync/events`,
      { headers: { authorization: `Bearer ${device.token}` }, agent: false },
      (response) => {
        if (response.statusCode !== 200) return reject(new Error(`stream ${response.statusCode}`));
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          if (chunk.includes('event: changes')) arrivals.push(performance.now());
        });
        resolve({ arrivals, close: () => request.destroy() });
      },
    );
    request.on('error', reject);
  });
}

/** The server's RSS and used heap, medians of 5 readings of /metrics 200 ms apart. */
async function memory(url: string, token: string) {
  const readings: Array<{ rss: number; heap: number }> = [];
  for (let i = 0; i < 5; i++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const text = await (
      await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } })
    ).text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)![1]);
    readings.push({
      rss: value('process_resident_memory_bytes'),
      heap: value('nodejs_heap_size_used_bytes'),
    });
  }
  return {
    rss: median(readings.map((r) => r.rss)),
    heap: median(readings.map((r) => r.heap)),
  };
}

async function events(cleanup: Cleanup): Promise<void> {
  const quick = process.argv.includes('--quick');
  const streamsWanted = quick ? 200 : 1_000;
  const samples = quick ? 50 : 200;
  const postgres = await startPostgres();
  cleanup.add(() => postgres.stop());
  // Metrics on both (the same work on each side), read here for the server's memory.
  const env = { METRICS_TOKEN: 'bench-events-metrics-token' };
  const [withStreams, without] = [
    await measure.startTarget(postgres.url, cleanup, { env }),
    await measure.startTarget(postgres.url, cleanup, { env }),
  ];
  const url = withStreams.server.url;
  const fleets = [
    await prepareFleet(url, 100, withStreams.ids),
    await prepareFleet(without.server.url, 100, without.ids),
  ];

  // Accounts of two devices: one device pushes, the other one's stream is open.
  log(`registering ${streamsWanted / 2} accounts of two devices`);
  const pairs = await api.inBatches(streamsWanted / 2, async (i) => {
    const phone = await api.register(url, `bench-events-${i}`);
    return { phone, tablet: await api.register(url, `bench-events-${i}-tablet`, phone) };
  });
  const before = await memory(url, env.METRICS_TOKEN);
  const streams: Stream[] = [];
  for (const { phone, tablet } of pairs) {
    for (const device of [phone, tablet]) streams.push(await openStream(url, device));
  }
  cleanup.add(async () => streams.forEach((stream) => stream.close()));
  const after = await memory(url, env.METRICS_TOKEN);
  const perStream = {
    rss: (after.rss - before.rss) / streams.length,
    heap: (after.heap - before.heap) / streams.length,
  };
  log(`${streams.length} streams open, ${mib(after.rss - before.rss)} more RSS`);

  // Push-to-event: one push at a time, by a phone; its tablet's stream gets the event.
  const latencies: number[] = [];
  for (let i = 0; i < samples; i++) {
    const k = i % pairs.length;
    const { phone } = pairs[k];
    const stream = streams[2 * k + 1];
    const seen = stream.arrivals.length;
    const { timestamp } = await api.pullOk(url, phone);
    const body = api.pushBody(toChanges(buildGames(1, 1, withStreams.ids)), timestamp);
    const startedAt = performance.now();
    await api.pushOk(url, phone, body);
    for (const deadline = startedAt + 5_000; stream.arrivals.length === seen;) {
      if (performance.now() > deadline) throw new Error('an event never came');
      await new Promise((resolve) => setImmediate(resolve));
    }
    latencies.push(stream.arrivals[seen] - startedAt);
  }

  // Closed loop, side by side: the server with the streams open against one without.
  const cycles = [0, 0];
  const slices = quick ? 16 : 64;
  for (let i = 0; i < slices; i++) {
    const k = [0, 1, 1, 0][i % 4];
    cycles[k] += (await closedLoop(fleets[k], SLICE_SECONDS)).cycles;
  }
  const rates = cycles.map((n) => n / ((slices / 2) * SLICE_SECONDS));

  console.log(`\nLive changes, ${streams.length} open streams on one server:`);
  console.log(
    `  push to event (push request sent until the other device's stream has the event): ` +
      `p50 ${ms(median(latencies))}, p99 ${ms(percentile(latencies, 99))} (${samples} pushes)`,
  );
  console.log(
    `  memory per open stream: ${(perStream.rss / 1024).toFixed(1)} KiB of RSS, ` +
      `${(perStream.heap / 1024).toFixed(1)} KiB of JavaScript heap (medians of 5 readings)`,
  );
  console.log(
    `  closed loop, 100 devices: ${count(rates[0])} cycles/s with the streams open, ` +
      `${count(rates[1])} without (${(rates[0] / rates[1]).toFixed(2)}x), in alternating slices`,
  );
}

runMain(events);
