/** The part of autocannon 9's API that the benchmark uses (the package ships no types). */
declare module 'autocannon' {
  import { EventEmitter } from 'node:events';

  type Request = { method?: string; path?: string; headers?: object; body?: string };
  /** One request of a connection's sequence: built just before it is sent, then answered. */
  export type SequenceStep = {
    setupRequest: (request: Request) => Request;
    onResponse: (status: number, body: string) => void;
  };
  export type Options = {
    url: string;
    connections: number;
    duration: number;
    /** Milliseconds between samples; a run ends at the first sample after `duration`. */
    sampleInt: number;
    /** Called once per connection, before its first request. */
    setupClient: (client: { setRequests(requests: SequenceStep[]): void }) => void;
  };
  export type Result = {
    errors: number;
    timeouts: number;
    statusCodeStats: Record<string, { count: number }>;
  };

  export default function autocannon(options: Options): EventEmitter & PromiseLike<Result>;
}
