import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { isDatabaseUnavailable } from './database-unavailable';

type ErrorBody = { statusCode: number; message: string | string[]; [key: string]: unknown };

/** Errors raised by the body parser carry their own 4xx `statusCode`. */
function clientErrorStatus(exception: unknown): number | undefined {
  if (typeof exception !== 'object' || exception === null) return undefined;
  const { statusCode } = exception as { statusCode?: unknown };
  return typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500
    ? statusCode
    : undefined;
}

function bodyOf(exception: unknown): ErrorBody {
  if (exception instanceof HttpException) {
    const response = exception.getResponse();
    const statusCode = exception.getStatus();
    return typeof response === 'string'
      ? { statusCode, message: response }
      : {
          ...response,
          statusCode,
          message: (response as ErrorBody).message ?? exception.message,
        };
  }
  if (isDatabaseUnavailable(exception)) {
    return {
      statusCode: HttpStatus.SERVICE_UNAVAILABLE,
      message: 'The database is unavailable; retry shortly',
    };
  }
  // Fastify's own errors reach here as HttpExceptions (Nest maps them); these are the body
  // parser's (see json-body.parser.ts), whose messages are written for the client.
  const status = clientErrorStatus(exception);
  if (status) return { statusCode: status, message: (exception as Error).message };
  return { statusCode: HttpStatus.INTERNAL_SERVER_ERROR, message: 'Internal server error' };
}

/**
 * Every error leaves as JSON `{ statusCode, message, ... }`, including the ones Nest's own
 * handler does not shape (body parsing). Unexpected errors are logged, never echoed
 * to the client.
 */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const body = bodyOf(exception);
    // On the request's logger, so the line carries its request_id.
    if (body.statusCode === 503 && !(exception instanceof HttpException)) {
      reply.log.warn(
        `Database unavailable: ${exception instanceof Error ? exception.message : String(exception)}`,
      );
    } else if (!(exception instanceof HttpException) && body.statusCode >= 500) {
      reply.log.error({ err: exception }, 'unexpected error');
    }
    if (reply.sent || reply.raw.headersSent) return;
    if (body.statusCode === 503) void reply.header('Retry-After', '1');
    // JSON whatever the route answers when it succeeds (the event stream's type, say).
    void reply.code(body.statusCode).type('application/json; charset=utf-8').send(body);
  }
}
