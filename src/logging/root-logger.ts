import pino, { Level, Logger } from 'pino';
import type { LogLevel } from '../config/app-config.type';
import { urlPath } from './url-path';

const PINO_LEVEL: Record<LogLevel, Level> = {
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
  verbose: 'trace',
};

type LoggedRequest = { method?: string; url?: string };

/**
 * The process's one pino logger: JSON lines on stdout at LOG_LEVEL, or, with `pretty`, lines for
 * a person at a terminal (pino-pretty, in a worker thread). Nest's logs, Fastify's and the
 * request lines all go through it. Should a request ever be logged whole (Fastify does so on
 * some framework errors), only its method and path are written: never headers (tokens) or the
 * query string.
 */
export function createRootLogger(level: LogLevel, pretty = false): Logger {
  return pino({
    level: PINO_LEVEL[level],
    serializers: {
      req: (req: LoggedRequest) => ({ method: req.method, path: req.url && urlPath(req.url) }),
    },
    ...(pretty && {
      transport: {
        target: 'pino-pretty',
        options: {
          translateTime: 'SYS:HH:MM:ss.l',
          messageFormat: '{if context}{context}: {end}{msg}',
          ignore: 'pid,hostname,context',
        },
      },
    }),
  });
}
