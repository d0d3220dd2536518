import { Module, RequestMethod } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoggerModule } from 'nestjs-pino';
import { levels } from 'pino';
import { LogLevel } from '../config/app-config.type';
import { AllConfigType } from '../config/config.type';

const PINO_LEVEL: Record<LogLevel, string> = {
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
  verbose: 'trace',
};
type PinoLevel = 'error' | 'warn' | 'info';

/** error for 5xx, warn for 4xx, info for the rest. */
function requestLevel(res: ServerResponse, error?: Error): PinoLevel {
  return error || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info';
}

type Request = IncomingMessage & { id?: string; user?: { id: string }; originalUrl?: string };

/**
 * JSON logs (pino): one line per request with its id, the device, status and duration. Only the
 * method and path are logged: never headers (tokens), query strings or bodies (records).
 */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService<AllConfigType, true>) => {
        const level = PINO_LEVEL[config.get('app.logLevel', { infer: true })];
        const threshold = levels.values[level] ?? 0;
        return {
          // Every route, in the path syntax of Nest 11 (nestjs-pino's default, '*', is the old one).
          forRoutes: [{ path: '{*path}', method: RequestMethod.ALL }],
          pinoHttp: {
            level,
            // pino-http builds a child logger for the props of every request, when it starts and
            // again when it ends, whether the line is logged or not: only once there is a device.
            customProps: (req: IncomingMessage) => {
              const deviceId = (req as Request).user?.id;
              return (deviceId ? { device_id: deviceId } : undefined) as object;
            },
            // 'silent' makes pino-http skip the line before it builds anything for it.
            customLogLevel: (_req: IncomingMessage, res: ServerResponse, error?: Error) => {
              const lineLevel = requestLevel(res, error);
              return levels.values[lineLevel] >= threshold ? lineLevel : 'silent';
            },
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
        };
      },
    }),
  ],
})
export class LoggingModule {}
