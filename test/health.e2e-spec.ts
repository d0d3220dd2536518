import { TcpProxy } from './utils/tcp-proxy';
import { createTestApp, TestApp } from './utils/test-app';

describe('GET /health (e2e)', () => {
  let t: TestApp;
  let proxy: TcpProxy;
  const realUrl = process.env.DATABASE_URL!;

  beforeAll(async () => {
    // The app reaches PostgreSQL through a proxy that the test can cut.
    const proxied = await TcpProxy.forUrl(realUrl);
    proxy = proxied.proxy;
    process.env.DATABASE_URL = proxied.url;
    t = await createTestApp();
  });
  afterAll(async () => {
    await proxy.start();
    await t.close();
    await proxy.stop();
    process.env.DATABASE_URL = realUrl;
  });

  it('answers 200 while the database answers', async () => {
    const response = await t.http().get('/health').expect(200);
    expect(response.body).toMatchObject({ status: 'ok', info: { database: { status: 'up' } } });
  });

  it('is served outside the /api/v1 prefix', async () => {
    await t.http().get('/api/v1/health').expect(404);
  });

  it('answers 503 when the database is gone, and 200 again once it is back', async () => {
    await proxy.stop();
    const down = await t.http().get('/health');
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({
      statusCode: 503,
      status: 'error',
      error: { database: { status: 'down' } },
    });

    await proxy.start();
    await t.http().get('/health').expect(200);
  });
});
