/** The production build of the server (`dist/src/main.js` of a checkout) as a child process. */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from '../scripts/free-port';

export const ROOT = path.resolve(__dirname, '..');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class Server {
  private output = '';
  private readonly exited: Promise<void>;
  private stopping = false;

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {
    const keep = (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-4000));
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    this.exited = new Promise((resolve) =>
      child.on('exit', (code, signal) => {
        const how = `${signal ?? `code ${code}`}${this.stopping ? '' : ', unasked'}`;
        if (code !== 0 || !this.stopping) console.error(`${url} exited (${how}):\n${this.output}`);
        resolve();
      }),
    );
    process.on('exit', this.kill); // never leave a server behind
  }

  /** Starts `<root>/dist/src/main.js` on `databaseUrl` and waits until /health answers. */
  static async start(
    databaseUrl: string,
    options: { root?: string; env?: Record<string, string> } = {},
  ): Promise<Server> {
    const mainJs = path.join(options.root ?? ROOT, 'dist/src/main.js');
    if (!fs.existsSync(mainJs)) throw new Error(`${mainJs} is missing: run \`npm run build\``);
    const port = await freePort();
    const child = spawn(process.execPath, [mainJs], {
      cwd: options.root ?? ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      // The caller's environment (DATABASE_POOL_SIZE, NODE_OPTIONS to --require a
      // profiler, ...) with the benchmark's settings on top.
      env: {
        ...process.env,
        NODE_ENV: 'production',
        LOG_LEVEL: 'warn',
        PORT: String(port),
        JWT_SECRET: randomBytes(36).toString('base64'),
        // Raised rather than off, so every request still pays for the throttler.
        THROTTLE_REGISTER_LIMIT: '1000000',
        THROTTLE_DEVICE_LIMIT: '1000000',
        ...options.env,
        DATABASE_URL: databaseUrl,
      },
    });
    const server = new Server(child, `http://127.0.0.1:${port}`);
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(100)) {
      if (child.exitCode !== null) break;
      if (
        await fetch(`${server.url}/health`).then(
          (r) => r.ok,
          () => false,
        )
      )
        return server;
    }
    await server.stop();
    throw new Error(`the server did not become healthy; its output:\n${server.output}`);
  }

  /** The server process's resident memory now. */
  rssBytes(): number {
    const status = fs.readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
  }

  /** CPU time the server process has used so far (user and system), in ms. */
  cpuMs(): number {
    const fields = fs
      .readFileSync(`/proc/${this.child.pid}/stat`, 'utf8')
      .split(') ')[1]
      .split(' ');
    // utime and stime, fields 14 and 15 of stat (11 and 12 after the command), in clock ticks.
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  }

  /** SIGTERM (a graceful shutdown), SIGKILL after 20 s. */
  async stop(): Promise<void> {
    process.removeListener('exit', this.kill);
    this.stopping = true;
    this.child.kill('SIGTERM'); // (no-op if it is gone)
    const timer = setTimeout(this.kill, 20_000);
    await this.exited;
    clearTimeout(timer);
  }

  private readonly kill = () => void this.child.kill('SIGKILL');
}
