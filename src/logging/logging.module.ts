import { Module } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoggerModule } from 'nestjs-pino';
import { LogLevel } from '../config/app-config.type';
import { AllConfigType } from '../config/config.type';

const PINO_LEVEL: Record<LogLevel, string> = {
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
  verbose: 'trace',
};
const REQUEST_ID = /^[A-Za-z0-9_.:-]{1,64}$/;

type Request = IncomingMessage & { id?: string; user?: { id: string }; originalUrl?: string };

/** A caller's X-Request-Id when it is sane, else a new one; echoed back in the response. */
function requestId(req: IncomingMessage, res: ServerResponse): string {
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
  res.setHeader('X-Request-Id', id);
  return id;
}

/**
 * JSON logs (pino): one line per request with its id, the device, status and duration. Only the
 * method and path are logged: never headers (tokens), query strings or bodies (records).
 */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<AllConfigType, true>) => ({
        pinoHttp: {
          level: PINO_LEVEL[config.get('app.logLevel', { infer: true })],
          genReqId: requestId,
          customProps: (req: IncomingMessage) => ({ device_id: (req as Request).user?.id }),
          customLogLevel: (_req: IncomingMessage, res: ServerResponse, error?: Error) =>
            error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
          serializers: {
            req: (req: Request) => ({
              id: req.id,
              method: req.method,
              path: (req.originalUrl ?? req.url ?? '').split('?')[0],
            }),
            res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
          },
          // Belt and braces, should a serializer ever let headers through.
          redact: ['req.headers.authorization', 'req.headers.cookie'],
        },
      }),
    }),
  ],
})
export class LoggingModule {}
