import { createTestApp, registerDevice, TestApp } from './utils/test-app';

describe('Rate limits, security headers and CORS (e2e)', () => {
  let t: TestApp;
  const saved = { ...process.env };

  beforeAll(async () => {
    Object.assign(process.env, {
      THROTTLE_DEVICE_LIMIT: '5',
      THROTTLE_REGISTER_LIMIT: '3',
      THROTTLE_TTL_MS: '60000',
      CORS_ORIGINS: 'https://qa.example.com',
    });
    t = await createTestApp();
  });
  afterAll(async () => {
    process.env = saved;
    await t.close();
  });

  it('limits registrations per IP: 429 with Retry-After', async () => {
    const responses = [];
    for (let i = 0; i < 4; i++)
      responses.push(await t.http().post('/api/v1/devices/register').send({}));
    expect(responses.map((r) => r.status)).toEqual([201, 201, 201, 429]);
    const last = responses[3];
    expect(Number(last.headers['retry-after'])).toBeGreaterThan(0);
    expect(last.body).toEqual({
      statusCode: 429,
      message: expect.stringContaining('Too many requests'),
    });
  });

  it('limits requests per device, not per IP: another device still gets through', async () => {
    process.env.THROTTLE_REGISTER_LIMIT = '1000';
    const other = await createTestApp();
    try {
      const [a, b] = [await registerDevice(other), await registerDevice(other)];
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++)
        statuses.push((await other.http().get('/api/v1/sync/pull').set(a.auth)).status);
      expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
      const refused = await other.http().get('/api/v1/devices/me').set(a.auth);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      await other.http().get('/api/v1/sync/pull').set(b.auth).expect(200);
    } finally {
      await other.close();
    }
  });

  it('limits token exchanges per IP like registrations', async () => {
    process.env.THROTTLE_REGISTER_LIMIT = '2';
    const other = await createTestApp();
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++)
        statuses.push(
          (await other.http().post('/api/v1/devices/token').send({ refresh_token: 'x' })).status,
        );
      expect(statuses).toEqual([401, 401, 429]);
    } finally {
      await other.close();
    }
  });

  it('limits pairing and recovery codes per device, like registrations', async () => {
    process.env.THROTTLE_REGISTER_LIMIT = '2';
    process.env.THROTTLE_DEVICE_LIMIT = '1000';
    const other = await createTestApp();
    try {
      const a = await registerDevice(other);
      const statuses: number[] = [];
      for (const path of [
        'devices/pairing-codes',
        'account/recovery-code',
        'devices/pairing-codes',
      ])
        statuses.push((await other.http().post(`/api/v1/${path}`).set(a.auth)).status);
      expect(statuses).toEqual([201, 201, 429]);
      // The per-device limit of the other routes is untouched.
      await other.http().get('/api/v1/devices/me').set(a.auth).expect(200);
    } finally {
      await other.close();
    }
  });

  it('sends helmet security headers', async () => {
    const response = await t.http().get('/health');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['strict-transport-security']).toMatch(/max-age=/);
    expect(response.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(response.headers['x-powered-by']).toBeUndefined();
  });

  it('answers CORS preflights for configured origins only', async () => {
    const allowed = await t
      .http()
      .options('/api/v1/sync/pull')
      .set('Origin', 'https://qa.example.com')
      .set('Access-Control-Request-Method', 'GET')
      .set('Access-Control-Request-Headers', 'authorization');
    expect(allowed.status).toBe(204);
    expect(allowed.headers['access-control-allow-origin']).toBe('https://qa.example.com');
    expect(allowed.headers['access-control-allow-headers']).toMatch(/Authorization/i);

    const other = await t
      .http()
      .options('/api/v1/sync/pull')
      .set('Origin', 'https://evil.example')
      .set('Access-Control-Request-Method', 'GET');
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});
