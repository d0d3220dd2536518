import {
  HttpException,
  HttpStatus,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
} from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { PassThrough, Readable } from 'node:stream';
import { DataSource } from 'typeorm';
import { AllConfigType } from '../../config/config.type';
import { MetricsService } from '../../metrics/metrics.service';
import { NotificationListener } from '../../database/notification-listener';
import { CHANNELS, notify } from '../../database/notifications';
import { DeviceEntity } from '../../devices/entities/device.entity';

type ChangesNote = { account: string; timestamp: number };

/** One open event stream. */
type EventStream = { device: DeviceEntity; out: PassThrough; expiry: NodeJS.Timeout };

/** An event of the stream, in the text/event-stream format. */
const changesEvent = (timestamp: number) =>
  `event: changes\ndata: ${JSON.stringify({ timestamp })}\n\n`;

/**
 * Live changes: Server-Sent Events telling every open stream of an account that a push of the
 * account committed, whichever instance took the push. Each instance keeps one PostgreSQL
 * connection LISTENing (NotificationListener, which reconnects by itself); a push announces its new clock
 * with NOTIFY once it has committed, and every instance passes it to its streams of that
 * account. After a reconnect, the streams get their account's current clock, so that nothing
 * announced meanwhile is lost.
 */
@Injectable()
export class SyncEventsService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(SyncEventsService.name);
  private readonly byAccount = new Map<string, Set<EventStream>>();
  private listener?: NotificationListener;
  private ping?: NodeJS.Timeout;

  constructor(
    private readonly dataSource: DataSource,
    private readonly config: ConfigService<AllConfigType, true>,
    metrics: MetricsService,
  ) {
    metrics.gauge(
      'sync_event_streams_open',
      'Open event streams on this instance',
      () => this.openStreams,
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    this.listener = new NotificationListener({
      url: this.config.getOrThrow('database.url', { infer: true }),
      channels: [CHANNELS.changes, CHANNELS.revoked],
      onNotification: (channel, payload) => {
        if (channel === CHANNELS.changes) {
          const note = JSON.parse(payload) as ChangesNote;
          this.deliver(note.account, note.timestamp);
        } else {
          this.endDevice(JSON.parse(payload) as string);
        }
      },
      // Announcements may have been missed while it was away.
      onReconnect: () => void this.catchUp(),
      onError: (error) => this.logger.warn(`the live changes listener: ${error.message}`),
    });
    await this.listener.start();
    const interval = this.config.get('sync.eventsPingMs', { infer: true });
    this.ping = setInterval(() => this.writeAll(': ping\n\n'), interval);
    this.ping.unref();
  }

  /** Ends every stream (clients reconnect to another instance), then the listener. */
  async onModuleDestroy(): Promise<void> {
    clearInterval(this.ping);
    for (const streams of this.byAccount.values()) for (const stream of streams) stream.out.end();
    await this.listener?.close();
  }

  /**
   * A new stream for `device`, ending when its token expires (`tokenExpiresAt`, epoch ms), when
   * the device is revoked, or when the client goes. 429 past SYNC_EVENTS_PER_DEVICE streams.
   */
  open(device: DeviceEntity, tokenExpiresAt: number): Readable {
    const streams = this.byAccount.get(device.accountId) ?? new Set<EventStream>();
    const open = [...streams].filter((stream) => stream.device.id === device.id).length;
    const max = this.config.get('sync.eventsPerDevice', { infer: true });
    if (open >= max) {
      throw new HttpException(
        { statusCode: 429, message: `At most ${max} open event streams per device` },
        HttpStatus.TOO_MANY_REQUESTS,
      );
    }
    const out = new PassThrough();
    // Ends the stream at the token's expiry: the client reconnects with a fresh token.
    const expiry = setTimeout(() => out.end(), Math.max(0, tokenExpiresAt - Date.now()));
    expiry.unref();
    const stream: EventStream = { device, out, expiry };
    this.byAccount.set(device.accountId, streams.add(stream));
    out.once('close', () => this.forget(stream));
    // A first comment, so that the client's connection is known to be open.
    out.write(': connected\n\n');
    return out;
  }

  /** After a push of `accountId` committed with the new clock `timestamp`: tell every instance. */
  announceChanges(accountId: string, timestamp: number): Promise<void> {
    const note: ChangesNote = { account: accountId, timestamp };
    return notify(this.dataSource, CHANNELS.changes, note);
  }

  /** How many streams are open on this instance. */
  get openStreams(): number {
    let count = 0;
    for (const streams of this.byAccount.values()) count += streams.size;
    return count;
  }

  private deliver(accountId: string, timestamp: number): void {
    for (const stream of this.byAccount.get(accountId) ?? [])
      stream.out.write(changesEvent(timestamp));
  }

  private endDevice(deviceId: string): void {
    for (const streams of this.byAccount.values()) {
      for (const stream of streams) if (stream.device.id === deviceId) stream.out.end();
    }
  }

  private writeAll(text: string): void {
    for (const streams of this.byAccount.values())
      for (const stream of streams) stream.out.write(text);
  }

  /** After the listener reconnected: each account with open streams gets its current clock. */
  private async catchUp(): Promise<void> {
    const accounts = [...this.byAccount.keys()];
    if (accounts.length === 0) return;
    try {
      const rows = await this.dataSource.query<Array<{ id: string; last_stamp: string }>>(
        'SELECT "id", "last_stamp" FROM "accounts" WHERE "id" = ANY($1::uuid[])',
        [accounts],
      );
      for (const row of rows) this.deliver(row.id, Number(row.last_stamp));
    } catch (error) {
      this.logger.warn(`could not catch the event streams up: ${(error as Error).message}`);
    }
  }

  private forget(stream: EventStream): void {
    clearTimeout(stream.expiry);
    const streams = this.byAccount.get(stream.device.accountId);
    if (!streams?.delete(stream)) return;
    if (streams.size === 0) this.byAccount.delete(stream.device.accountId);
  }
}
