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
  await configureApp(app);
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

export type RegisteredDevice = {
  deviceId: string;
  accountId: string;
  token: string;
  auth: { Authorization: string };
};

/** Registers a device: in a new account, or joining one with `code` (pairing or recovery). */
export async function registerDevice(
  testApp: TestApp,
  name = 'test phone',
  code: { pairing_code?: string; recovery_code?: string } = {},
): Promise<RegisteredDevice> {
  const response = await testApp
    .http()
    .post('/api/v1/devices/register')
    .send({ name, platform: 'test', ...code })
    .expect(201);
  const body = response.body as { device_id: string; account_id: string; access_token: string };
  return {
    deviceId: body.device_id,
    accountId: body.account_id,
    token: body.access_token,
    auth: { Authorization: `Bearer ${body.access_token}` },
  };
}

/** A second device of `device`'s account, joined with a pairing code made by `device`. */
export async function pairDevice(
  testApp: TestApp,
  device: RegisteredDevice,
  name = 'paired device',
): Promise<RegisteredDevice> {
  const { body } = await testApp
    .http()
    .post('/api/v1/devices/pairing-codes')
    .set(device.auth)
    .expect(201);
  return registerDevice(testApp, name, { pairing_code: (body as { code: string }).code });
}
