import { Logger } from '@nestjs/common';
import pino from 'pino';
import { Writable } from 'node:stream';
import { NestPinoLogger } from './nest-pino-logger';

/** A NestPinoLogger at `level` whose JSON lines land in the returned array. */
function capture(level: string) {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: new NestPinoLogger(pino({ level }, sink)), lines };
}

describe('NestPinoLogger', () => {
  afterEach(() => Logger.overrideLogger(false));

  it("writes Nest's calls as pino lines with their context, stack and level", () => {
    const { logger, lines } = capture('info');
    Logger.overrideLogger(logger);
    new Logger('Bootstrap').log('Listening');
    new Logger('Filter').error('boom', 'Error: boom\n    at x');
    new Logger('Plans').warn({ tables: 4, msg: 'slow' });
    logger.error(new Error('bad'), 'Worker');

    expect(lines).toEqual([
      expect.objectContaining({ level: 30, context: 'Bootstrap', msg: 'Listening' }),
      expect.objectContaining({
        level: 50,
        context: 'Filter',
        stack: 'Error: boom\n    at x',
        msg: 'boom',
      }),
      expect.objectContaining({ level: 40, context: 'Plans', tables: 4, msg: 'slow' }),
      expect.objectContaining({
        level: 50,
        context: 'Worker',
        msg: 'bad',
        err: expect.objectContaining({ message: 'bad', stack: expect.any(String) }),
      }),
    ]);
  });

  it("drops debug and verbose (pino's debug and trace) at info", () => {
    const { logger, lines } = capture('info');
    logger.debug('details', 'Ctx');
    logger.verbose('more details', 'Ctx');
    logger.log('kept', 'Ctx');
    expect(lines.map((line) => line.msg)).toEqual(['kept']);
  });

  it('takes a stack only for errors', () => {
    const { logger, lines } = capture('trace');
    logger.warn('careful', 'not a stack', 'Ctx');
    logger.verbose('fine', 'Ctx');
    expect(lines).toEqual([
      expect.not.objectContaining({ stack: expect.anything() }),
      expect.objectContaining({ level: 10, context: 'Ctx', msg: 'fine' }),
    ]);
  });
});
