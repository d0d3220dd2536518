import { ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { EmbeddedPostgresServer } from '../../src/database/embedded/embedded-postgres.server';

const ROOT = path.resolve(__dirname, '../..');

/**
 * A throwaway PostgreSQL cluster of the test's own (EmbeddedPostgresServer on a folder and port
 * of the test's choosing), that the test may stop and start again at will: never the shared one.
 *
 * The embedded-postgres package is ESM-only, and jest's CommonJS test sandbox cannot run its
 * dynamic `import()` (only global-setup, outside the sandbox, can). So the cluster is driven by a
 * small child process, this very file run as a script: it starts the server, prints its URL,
 * and stops it (and exits) on a `stop` line or when the test process goes away.
 */
export class OwnCluster {
  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    private readonly exited: Promise<number | null>,
  ) {}

  static async start(options: { dataDir: string; port: number }): Promise<OwnCluster> {
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', __filename, options.dataDir, String(options.port)],
      { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'], env: process.env },
    );
    let output = '';
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    const lines = readline.createInterface({ input: child.stdout });
    const url = await new Promise<string>((resolve, reject) => {
      lines.on('line', (line) => {
        output += `${line}\n`;
        if (line.startsWith('READY ')) resolve(line.slice('READY '.length));
      });
      void exited.then((code) =>
        reject(new Error(`the cluster process exited (${code}) before it was ready:\n${output}`)),
      );
    });
    return new OwnCluster(child, url, exited);
  }

  /** Fast shutdown (PostgreSQL's SIGINT): sessions are cut and open transactions rolled back. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    this.child.stdin!.end('stop\n');
    const code = await this.exited;
    if (code !== 0) throw new Error(`the cluster process exited with ${code}`);
  }
}

async function main(dataDir: string, port: number): Promise<void> {
  const server = await EmbeddedPostgresServer.start({ dataDir, port, persistent: true });
  process.stdout.write(`READY ${server.url}\n`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await server.stop();
    process.exit(0);
  };
  // A `stop` line, or the end of stdin: the test asked, or the test process is gone.
  readline.createInterface({ input: process.stdin }).on('close', () => void stop());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void stop());
}

if (require.main === module) {
  main(process.argv[2], Number(process.argv[3])).catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
