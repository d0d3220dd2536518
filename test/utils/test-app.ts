import { INestApplication } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { AppModule } from '../../src/app.module';
import { configureApp, createHttpAdapter, setupSwagger } from '../../src/app.setup';

export type TestApp = {
  app: INestApplication;
  http: () => ReturnType<typeof request>;
  dataSource: DataSource;
  close(): Promise<void>;
};

/** The real AppModule on the run's database, bootstrapped the way main.ts does it. */
export async function createTestApp(): Promise<TestApp> {
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(createHttpAdapter(), {
    logger: ['error', 'warn'],
  });
  configureApp(app);
  setupSwagger(app);
  await app.init();
  // Fastify adds its routes and plugins when it is ready, not at init().
  await app.getHttpAdapter().getInstance().ready();
  return {
    app,
    http: () => request(app.getHttpServer()),
    dataSource: app.get(DataSource),
    close: () => app.close(),
  };
}

export type RegisteredDevice = { deviceId: string; token: string; auth: { Authorization: string } };

export async function registerDevice(
  testApp: TestApp,
  name = 'test phone',
): Promise<RegisteredDevice> {
  const response = await testApp
    .http()
    .post('/api/v1/devices/register')
    .send({ name, platform: 'test' })
    .expect(201);
  const { device_id: deviceId, access_token: token } = response.body as {
    device_id: string;
    access_token: string;
  };
  return { deviceId, token, auth: { Authorization: `Bearer ${token}` } };
}
