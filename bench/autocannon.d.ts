/** The part of autocannon 9's API the benchmark uses (the package ships no types). */
declare module 'autocannon' {
  import { EventEmitter } from 'node:events';

  export type Request = {
    method?: 'GET' | 'POST';
    path?: string;
    headers?: Record<string, string>;
    body?: string;
  };

  export type SequenceStep = {
    /** Called just before the request is sent; returns the request to send. */
    setupRequest?: (request: Request, context: object) => Request;
    onResponse?: (status: number, body: string, context: object) => void;
  };

  export type Client = { setRequests(requests: SequenceStep[]): void };

  export type Options = {
    url: string;
    connections: number;
    duration: number;
    /** Requests per second over all connections. */
    overallRate?: number;
    /** Called once per connection, before its first request. */
    setupClient?: (client: Client) => void;
    /** Milliseconds between samples; the run ends at the first sample after `duration`. */
    sampleInt?: number;
  };

  export type Result = {
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    statusCodeStats: Record<string, { count: number }>;
  };

  export type Instance = EventEmitter & PromiseLike<Result>;

  export default function autocannon(options: Options): Instance;
}
