import { Injectable } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import type { Server } from 'node:http';

/**
 * Graceful shutdown at the HTTP level. Once draining, new requests (even on kept-alive
 * connections, which `server.close()` leaves open) answer 503 with `Connection: close`, and the
 * requests already in flight finish but close their connection, so the process can exit as
 * soon as the last one is answered instead of waiting for keep-alive timeouts.
 */
@Injectable()
export class DrainingService {
  private draining = false;
  private readonly inFlight = new Set<Response>();

  readonly middleware = (_req: Request, res: Response, next: NextFunction): void => {
    if (this.draining) {
      res.setHeader('Connection', 'close');
      res
        .status(503)
        .json({ statusCode: 503, message: 'The server is shutting down; retry shortly' });
      return;
    }
    this.inFlight.add(res);
    res.on('close', () => this.inFlight.delete(res));
    next();
  };

  begin(server: Server): void {
    this.draining = true;
    for (const res of this.inFlight) {
      if (!res.headersSent) res.setHeader('Connection', 'close');
    }
    server.closeIdleConnections();
  }
}
