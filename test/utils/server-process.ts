import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

/** Whether a process (a server, its workers, its PostgreSQL) is still running. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The real entry point (src/main.ts) as its own process, the way `npm start` runs it. */
export class ServerProcess {
  output = '';
  private exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = new Promise((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
  }

  /**
   * `root`: another checkout of the server (an older build, say); this one by default. `entry`:
   * another script of it (e.g. scripts/purge.ts).
   */
  static start(
    env: Record<string, string | undefined>,
    root = ROOT,
    entry = 'src/main.ts',
  ): ServerProcess {
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', entry], {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new ServerProcess(child);
  }

  /** Polls `url` until it answers 200, failing early with the output if the process exits. */
  async waitFor(url: string, timeoutMs = 45_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => (exited = true));
    while (Date.now() < deadline && !exited) {
      const ok = await fetch(url).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`${url} did not answer 200 (exited: ${exited}). Output:\n${this.output}`);
  }

  exit(timeoutMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    return Promise.race([
      this.exited,
      new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(new Error(`no exit within ${timeoutMs} ms:\n${this.output}`)),
          timeoutMs,
        ).unref(),
      ),
    ]);
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}
