import type { Database } from '@nozbe/watermelondb';
import type { SyncLog } from '@nozbe/watermelondb/sync';
import { syncDatabase, SyncOptions } from './sync';

/** What watchChanges needs of an EventSource: the shape of `react-native-sse` (and `eventsource`). */
export type EventSourceLike = {
  addEventListener(type: string, listener: (event: { data?: string | null }) => void): void;
  close(): void;
};

/**
 * An EventSource class that sends request headers (the bearer token). The browser's cannot; on
 * React Native use `react-native-sse` (XMLHttpRequest underneath, so it works on both platforms
 * and takes `headers`); in Node, `eventsource` (version 2).
 */
export type EventSourceClass = new (
  url: string,
  init: { headers: Record<string, string> },
) => EventSourceLike;

export type WatchOptions = SyncOptions & {
  EventSource: EventSourceClass;
  /** First wait before reconnecting after the stream broke (doubled up to 30 s). */
  retryDelayMs?: number;
  /** How long after an event the sync starts, gathering the events of a burst (250 ms). */
  gatherMs?: number;
  /** Each sync the events caused, with WatermelonDB's log. */
  onSync?: (log: SyncLog) => void;
  /** A sync or a connection that failed (the watch goes on; the next event syncs again). */
  onError?: (error: unknown) => void;
};

const MAX_RETRY_DELAY_MS = 30_000;

/**
 * Keeps `database` in step with the other devices of the account: opens the server's event
 * stream and syncs when another device pushed. The sync starts `gatherMs` after an event, so
 * that the events of a burst make one sync, and events during a sync make one more after it (a
 * burst of pushes costs a sync or two, not one each). It syncs once on every
 * (re)connection too, since changes may have come while it was not listening. A broken stream
 * (no network, an expired token, a server restart) is reopened with backoff and a fresh token.
 * Call `stop()` when the app goes to the background.
 */
export function watchChanges(database: Database, options: WatchOptions): { stop(): void } {
  const firstDelay = options.retryDelayMs ?? 1_000;
  let delay = firstDelay;
  let stopped = false;
  let source: EventSourceLike | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let gathering: ReturnType<typeof setTimeout> | undefined;
  let syncing = false;
  let again = false;

  const sync = () => {
    if (syncing) {
      again = true;
      return;
    }
    syncing = true;
    void syncDatabase(database, options)
      .then(
        (log) => options.onSync?.(log),
        (error: unknown) => options.onError?.(error),
      )
      .finally(() => {
        syncing = false;
        if (again && !stopped) {
          again = false;
          sync();
        }
      });
  };

  const reconnect = () => {
    source?.close();
    source = undefined;
    if (stopped) return;
    retry = setTimeout(() => void connect(), delay);
    delay = Math.min(MAX_RETRY_DELAY_MS, delay * 2);
  };

  const connect = async () => {
    let token: string;
    try {
      token = await options.getToken();
    } catch (error) {
      options.onError?.(error);
      return reconnect();
    }
    if (stopped) return;
    source = new options.EventSource(`${options.apiUrl}/api/v1/sync/events`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    source.addEventListener('open', () => {
      delay = firstDelay;
      sync();
    });
    source.addEventListener('changes', () => {
      gathering ??= setTimeout(() => {
        gathering = undefined;
        sync();
      }, options.gatherMs ?? 250);
    });
    // The stream broke or ended: reopen it ourselves, with a token that may have been refreshed.
    source.addEventListener('error', () => reconnect());
  };

  void connect();
  return {
    stop() {
      stopped = true;
      clearTimeout(retry);
      clearTimeout(gathering);
      source?.close();
    },
  };
}
