import http from 'node:http';

/** What a client of GET /api/v1/sync/events saw: raw frames, in order. */
export type OpenStream = {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** Every frame so far (`event: changes\ndata: {...}` or `: ping`), without the blank line. */
  frames: string[];
  /** The `timestamp` of each `changes` event so far. */
  timestamps(): number[];
  /** Resolves with the first frame from index `from` on that matches, waiting for it to come. */
  waitFor(match: (frame: string) => boolean, from?: number, timeoutMs?: number): Promise<string>;
  /** Resolves when the server ended the stream. */
  ended: Promise<void>;
  close(): void;
};

/**
 * Opens the event stream of `baseUrl` with `headers` over node:http and reads it as it comes
 * (raw, so a compressed or buffered stream would show).
 */
export function openStream(baseUrl: string, headers: Record<string, string>): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    const request = http.get(`${baseUrl}/api/v1/sync/events`, { headers }, (response) => {
      const frames: string[] = [];
      const waiters: Array<() => void> = [];
      let text = '';
      const ended = new Promise<void>((done) => {
        response.on('end', done);
        response.on('close', done);
        response.on('error', () => done());
      });
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        text += chunk;
        let at: number;
        while ((at = text.indexOf('\n\n')) >= 0) {
          frames.push(text.slice(0, at));
          text = text.slice(at + 2);
        }
        for (const wake of waiters.splice(0)) wake();
      });
      const stream: OpenStream = {
        status: response.statusCode!,
        headers: response.headers,
        frames,
        timestamps: () =>
          frames
            .filter((frame) => frame.startsWith('event: changes\n'))
            .map(
              (frame) =>
                (JSON.parse(frame.split('\ndata: ')[1]) as { timestamp: number }).timestamp,
            ),
        async waitFor(match, from = 0, timeoutMs = 10_000) {
          const deadline = Date.now() + timeoutMs;
          for (;;) {
            const found = frames.slice(from).find(match);
            if (found !== undefined) return found;
            if (Date.now() > deadline) {
              throw new Error(
                `no such frame within ${timeoutMs} ms; frames: ${JSON.stringify(frames)}`,
              );
            }
            await new Promise<void>((wake) => {
              waiters.push(wake);
              setTimeout(wake, 50);
            });
          }
        },
        ended,
        close: () => request.destroy(),
      };
      resolve(stream);
    });
    request.on('error', reject);
  });
}
