import net from 'node:net';

/**
 * A loopback TCP proxy in front of PostgreSQL, so a test can take the database away from the
 * app (and give it back) without touching the shared server.
 */
export class TcpProxy {
  private readonly sockets = new Set<net.Socket>();
  private server?: net.Server;
  /** Bytes from the database still allowed through before every connection is cut. */
  private cutAfter?: number;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  /** Proxy the host and port of a connection string; returns the same URL through the proxy. */
  static async forUrl(url: string): Promise<{ proxy: TcpProxy; url: string }> {
    const target = new URL(url);
    const proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
    await proxy.start();
    const proxied = new URL(url);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    return { proxy, url: proxied.toString() };
  }

  async start(): Promise<void> {
    if (this.server) return;
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, this.targetHost);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => socket.destroy());
      }
      client.pipe(upstream);
      upstream.on('data', (data: Buffer) => {
        if (this.cutAfter !== undefined && (this.cutAfter -= data.length) <= 0) {
          this.cutAfter = undefined;
          for (const socket of this.sockets) socket.destroy();
          return;
        }
        client.write(data);
      });
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  /** Lets `bytes` more through from the database, then cuts every open connection (once). */
  cutAfterBytes(bytes: number): void {
    this.cutAfter = bytes;
  }

  /** Cuts every open connection and refuses new ones, like a database that went away. */
  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) =>
      this.server ? this.server.close(() => resolve()) : resolve(),
    );
    this.server = undefined;
  }
}
