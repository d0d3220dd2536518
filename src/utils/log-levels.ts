import { LogLevel as NestLogLevel } from '@nestjs/common';
import { LogLevel } from '../config/app-config.type';

const ORDER: LogLevel[] = ['error', 'warn', 'log', 'debug', 'verbose'];

/** LOG_LEVEL names the most verbose level to print; Nest wants the whole list. */
export function nestLogLevels(level: LogLevel): NestLogLevel[] {
  return ORDER.slice(0, ORDER.indexOf(level) + 1);
}
