import { ServerProcess } from './utils/server-process';

/** A bad environment must stop the real entry point before it starts anything, naming the variable. */
describe('Start-up config validation (e2e, real process)', () => {
  const base = { DATABASE_URL: process.env.DATABASE_URL, PORT: '0', JWT_SECRET: 'x'.repeat(40) };

  const cases: Array<[string, Record<string, string | undefined>, RegExp]> = [
    ['PORT is not a number', { PORT: 'abc' }, /PORT/],
    ['PORT is out of range', { PORT: '70000' }, /PORT/],
    ['JWT_EXPIRES_IN is not a duration', { JWT_EXPIRES_IN: 'forever' }, /JWT_EXPIRES_IN/],
    ['LOG_LEVEL is unknown', { LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
    [
      'DATABASE_URL is not a postgres URL',
      { DATABASE_URL: 'mysql://localhost/db' },
      /DATABASE_URL/,
    ],
    [
      'production without JWT_SECRET',
      { NODE_ENV: 'production', JWT_SECRET: undefined },
      /JWT_SECRET: is missing/,
    ],
    [
      'production with a short JWT_SECRET',
      { NODE_ENV: 'production', JWT_SECRET: 'short' },
      /JWT_SECRET: is too short/,
    ],
  ];

  it.each(cases)('exits non-zero when %s', async (_name, env, expected) => {
    const server = ServerProcess.start({ ...base, ...env });
    const { code } = await server.exit();
    expect(code).toBe(1);
    expect(server.output).toMatch(/Invalid configuration/);
    expect(server.output).toMatch(expected);
  });
});
