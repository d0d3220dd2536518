import { Injectable } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import type { Server, ServerResponse } from 'node:http';

/**
 * Graceful shutdown at the HTTP level. Once draining, new requests (even on kept-alive
 * connections, which `server.close()` leaves open) answer 503 with `Connection: close`, and the
 * requests already in flight finish but close their connection, so the process can exit as
 * soon as the last one is answered instead of waiting for keep-alive timeouts.
 */
@Injectable()
export class DrainingService {
  private draining = false;
  private readonly inFlight = new Set<ServerResponse>();

  /** The first onRequest hook: it runs as the headers arrive, before the body is read. */
  attach(fastify: FastifyInstance): void {
    fastify.addHook('onRequest', (_request, reply, done) => {
      if (this.draining) {
        void reply
          .header('Connection', 'close')
          .code(503)
          .send({ statusCode: 503, message: 'The server is shutting down; retry shortly' });
        return;
      }
      const res = reply.raw;
      this.inFlight.add(res);
      res.on('close', () => this.inFlight.delete(res));
      done();
    });
  }

  begin(server: Server): void {
    this.draining = true;
    for (const res of this.inFlight) {
      if (!res.headersSent) res.setHeader('Connection', 'close');
    }
    server.closeIdleConnections();
  }
}
