import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import { FastifyReply, FastifyRequest, LogController } from 'fastify';
import type { Logger } from 'pino';
import { urlPath } from './url-path';

/** error for 5xx (or a response that failed), warn for 4xx, info for the rest. */
function levelOf(statusCode: number, error: unknown): 'error' | 'warn' | 'info' {
  return error || statusCode >= 500 ? 'error' : statusCode >= 400 ? 'warn' : 'info';
}

/**
 * Fastify's request lines, replaced: one line per request when it has been answered, on the
 * request's logger (which carries its request_id), with the method and path but never headers
 * (tokens), query strings or bodies (records), and the device once a guard identified it. Nothing
 * is built for a line the level drops. (nestjs-pino did this with Nest middleware and an async
 * context per request: 12% of the server's CPU per sync cycle, README "Performance".)
 */
export class RequestLogController extends LogController {
  constructor() {
    super({ requestIdLogLabel: 'request_id' });
  }

  /** One line per request, at its end. */
  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    const level = levelOf(reply.statusCode, error);
    const log = request.log as Logger;
    if (!log.isLevelEnabled(level)) return;
    const deviceId = (request as FastifyRequest & { user?: { id: string } }).user?.id;
    log[level](
      {
        method: request.method,
        path: urlPath(request.url),
        status: reply.statusCode,
        duration_ms: Math.round(reply.elapsedTime * 10) / 10,
        ...(deviceId && { device_id: deviceId }),
        ...(error && { err: error }),
      },
      'request completed',
    );
  }
}

/** The request's own logger, whose lines carry its request_id. */
export const RequestLog = createParamDecorator(
  (_data: unknown, context: ExecutionContext): Logger =>
    context.switchToHttp().getRequest<FastifyRequest>().log as Logger,
);
