import { Client } from 'pg';

type ListenerOptions = {
  url: string;
  channels: readonly string[];
  onNotification: (channel: string, payload: string) => void;
  /** After every connection but the first: notifications sent meanwhile were missed. */
  onReconnect: () => void;
  onError: (error: Error) => void;
};

/** Waits between reconnection attempts: 100 ms, doubling, at most 5 s. */
const retryDelay = (attempt: number) => Math.min(5_000, 100 * 2 ** attempt);

/**
 * One PostgreSQL connection LISTENing on `channels`, outside the pool, that comes back after it
 * breaks (PostgreSQL restarted, the connection killed) for as long as it takes, and stays down
 * once closed. (pg-listen does the same but keeps retrying after it was closed.)
 */
export class NotificationListener {
  private client?: Client;
  private closed = false;
  private retry?: NodeJS.Timeout;

  constructor(private readonly options: ListenerOptions) {}

  /** The first connection: its failure is the caller's (start-up fails as it should). */
  async start(): Promise<void> {
    this.client = await this.connect();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<Client> {
    // TCP keep-alive: a connection lost without a word is noticed too.
    const client = new Client({ connectionString: this.options.url, keepAlive: true });
    client.on('notification', ({ channel, payload }) =>
      this.options.onNotification(channel, payload ?? ''),
    );
    const lost = (error?: Error) => {
      if (client !== this.client) return;
      this.client = undefined;
      client.removeAllListeners('notification');
      client.end().catch(() => undefined);
      if (error) this.options.onError(error);
      this.reconnect(0);
    };
    client.on('error', lost);
    client.on('end', () => lost());
    try {
      await client.connect();
      for (const channel of this.options.channels) await client.query(`LISTEN "${channel}"`);
      return client;
    } catch (error) {
      client.removeAllListeners();
      client.on('error', () => undefined);
      await client.end().catch(() => undefined);
      throw error;
    }
  }

  private reconnect(attempt: number): void {
    if (this.closed) return;
    this.retry = setTimeout(() => {
      this.connect().then(
        (client) => {
          if (this.closed) return void client.end().catch(() => undefined);
          this.client = client;
          this.options.onReconnect();
        },
        (error: Error) => {
          if (attempt === 0) this.options.onError(error);
          this.reconnect(attempt + 1);
        },
      );
    }, retryDelay(attempt));
  }
}
