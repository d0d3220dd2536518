import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadAllConfig } from './load-all-config';

describe('loadAllConfig', () => {
  let dataDir: string;
  beforeEach(() => (dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'config-spec-'))));
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('applies the documented defaults', () => {
    const config = loadAllConfig({ DATA_DIR: dataDir, JWT_SECRET: 's'.repeat(32) });
    expect(config.app).toEqual({
      nodeEnv: 'development',
      port: 3000,
      apiPrefix: 'api/v1',
      logLevel: 'log',
      bodyLimit: 10 * 1024 * 1024,
      corsOrigins: [],
      throttle: { enabled: true, ttlMs: 60_000, deviceLimit: 600, credentialsLimit: 20 },
      dataDir,
      metricsToken: undefined,
    });
    expect(config.database).toMatchObject({ url: undefined, runMigrations: true, poolSize: 10 });
    expect(config.sync).toEqual({
      maxPushRecords: 20_000,
      tombstoneRetentionMs: 90 * 86_400_000,
      purgeIntervalMs: 3_600_000,
      eventsPerDevice: 5,
      eventsPingMs: 25_000,
    });
    expect(config.devices.jwtExpiresIn).toBe(3600);
    expect(config.devices.sessionIdleDays).toBe(365);
  });

  it.each([
    ['3600', 3600],
    ['45m', 2700],
    ['12h', 43200],
    ['7d', 604800],
  ])('reads JWT_EXPIRES_IN=%s as %i seconds', (value, seconds) => {
    expect(loadAllConfig({ DATA_DIR: dataDir, JWT_EXPIRES_IN: value }).devices.jwtExpiresIn).toBe(
      seconds,
    );
  });

  it('names every offending variable at once', () => {
    expect(() => loadAllConfig({ DATA_DIR: dataDir, PORT: 'x', LOG_LEVEL: 'loud' })).toThrow(
      /PORT[\s\S]*LOG_LEVEL/,
    );
  });

  it('treats an empty DATABASE_URL as unset', () => {
    expect(loadAllConfig({ DATA_DIR: dataDir, DATABASE_URL: '' }).database.url).toBeUndefined();
  });

  it('generates a development JWT secret once and keeps it in the data folder', () => {
    const first = loadAllConfig({ DATA_DIR: dataDir }).devices.jwtSecret;
    expect(first.length).toBeGreaterThanOrEqual(32);
    expect(loadAllConfig({ DATA_DIR: dataDir }).devices.jwtSecret).toBe(first);
    expect(fs.statSync(path.join(dataDir, 'jwt-secret')).mode & 0o777).toBe(0o600);
  });

  it('refuses a missing or short secret in production, and writes nothing', () => {
    expect(() => loadAllConfig({ DATA_DIR: dataDir, NODE_ENV: 'production' })).toThrow(
      /JWT_SECRET: is missing/,
    );
    expect(() =>
      loadAllConfig({ DATA_DIR: dataDir, NODE_ENV: 'production', JWT_SECRET: 'short' }),
    ).toThrow(/JWT_SECRET: is too short/);
    expect(fs.readdirSync(dataDir)).toEqual([]);
  });
});
