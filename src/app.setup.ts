import { INestApplication, RequestMethod, ValidationPipe } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import compress, { FastifyCompressOptions } from '@fastify/compress';
import helmet from 'helmet';
import zlib from 'node:zlib';
import type { Logger } from 'pino';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { echoRequestId, requestId } from './logging/request-id';
import { RequestLogController } from './logging/request-log';
import { createRootLogger } from './logging/root-logger';
import { jsonBodyParser } from './common/http/json-body.parser';
import { AllExceptionsFilter } from './common/filters/all-exceptions.filter';
import { DrainingService } from './common/shutdown/draining.service';
import { loadAppConfig } from './config/app.config';
import { AllConfigType } from './config/config.type';
import { MetricsService } from './metrics/metrics.service';
import { validationOptions } from './utils/validation-options';

/**
 * Fastify: 0.7x the server CPU per sync cycle of Express (README "Performance"). Its options are
 * fixed before Nest's config exists, so BODY_LIMIT and LOG_LEVEL are read from the environment
 * here (with the same validation). `logger`: the process's root logger, when it has one already.
 */
export function createHttpAdapter(logger?: Logger): FastifyAdapter {
  const config = loadAppConfig();
  return new FastifyAdapter({
    // Each request gets a child of it with its request_id; Fastify's request lines are
    // replaced by ours, which know the device.
    loggerInstance: logger ?? createRootLogger(config.logLevel),
    logController: new RequestLogController(),
    // Every content type's parser refuses a body over the limit, not only JSON's.
    bodyLimit: config.bodyLimit,
    // Node's own server defaults, which Fastify changes: a kept-alive connection is dropped
    // after 5 s idle, and a request that takes over 5 minutes to arrive is cut off.
    keepAliveTimeout: 5_000,
    requestTimeout: 300_000,
    // The request_id of the logs: the caller's X-Request-Id when it is sane, else a new one.
    genReqId: requestId,
  });
}

/**
 * helmet's default headers on every answer. Its middleware is built once and run on Node's
 * response (@fastify/helmet does the same, but builds it again for every request).
 */
function securityHeaders(fastify: FastifyInstance): void {
  const applyHelmet = helmet();
  fastify.addHook('onRequest', (request, reply, done) =>
    applyHelmet(request.raw, reply.raw, (error?: unknown) => done(error as Error | undefined)),
  );
}

/**
 * Compressed answers for clients that accept them (Accept-Encoding: br or gzip), streamed as
 * they are produced; an answer under 1 KiB goes as it is, since compressing it would save next
 * to nothing. Request bodies are inflated by jsonBodyParser, not here. Levels: see
 * docs/performance.md ("Compression").
 */
export const COMPRESSION: FastifyCompressOptions = {
  encodings: ['br', 'gzip'],
  threshold: 1024,
  globalDecompression: false,
  zlibOptions: { level: 6 },
  brotliOptions: { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4 } },
};

/**
 * Prefix, pipes, filters and plugins. main.ts and the e2e tests both call this, since
 * `createTestingModule` never runs main.ts.
 */
export async function configureApp(app: NestFastifyApplication): Promise<NestFastifyApplication> {
  const config = app.get(ConfigService<AllConfigType, true>);
  const fastify = app.getHttpAdapter().getInstance();
  echoRequestId(fastify);
  // Before the body is read, so a request counts as in flight from its headers on.
  app.get(DrainingService).attach(fastify);
  // A 10k-record push is a few MB.
  const bodyLimit = config.get('app.bodyLimit', { infer: true });
  app.useBodyParser('application/json', { bodyLimit }, jsonBodyParser(bodyLimit));
  setApiPrefix(app, config.get('app.apiPrefix', { infer: true }));
  securityHeaders(fastify);
  timeRequests(fastify, app.get(MetricsService));
  await app.register(compress, COMPRESSION);
  const corsOrigins = config.get('app.corsOrigins', { infer: true });
  if (corsOrigins.length) {
    app.enableCors({
      origin: corsOrigins.includes('*') ? true : corsOrigins,
      allowedHeaders: ['Authorization', 'Content-Type'],
      exposedHeaders: ['Retry-After'],
      maxAge: 600,
    });
  }
  app.useGlobalPipes(new ValidationPipe(validationOptions));
  app.useGlobalFilters(new AllExceptionsFilter());
  // No global ClassSerializerInterceptor: controllers answer DTOs built field by field, never
  // entities, so it had nothing to strip, and it cost ~20% of the server's CPU per sync cycle
  // (measured with both servers under the same load: an rxjs pipeline and async-hook bindings
  // on every request).
  return app;
}

/** Everything under /api/v1 except the operators' /health (docs are mounted outside Nest's router). */
export function setApiPrefix(app: INestApplication, prefix: string): void {
  app.setGlobalPrefix(prefix, {
    exclude: [
      { path: 'health', method: RequestMethod.GET },
      { path: 'metrics', method: RequestMethod.GET },
    ],
  });
}

/** With metrics on: every request's duration, by route pattern (never the path: no ids). */
function timeRequests(fastify: FastifyInstance, metrics: MetricsService): void {
  if (!metrics.enabled) return;
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const status = String(reply.statusCode);
    metrics.httpDuration.observe(
      { method: request.method, route, status_code: status },
      reply.elapsedTime / 1000,
    );
    if (request.method === 'POST' && route.endsWith('/sync/push')) {
      metrics.pushes.inc({ outcome: status });
    }
    done();
  });
}

export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('WatermelonDB sync server')
    .setDescription(
      'Pull/push sync for the score-keeping app. Register a device, press "Authorize" with its ' +
        'access_token, then pull and push. See README.md for the protocol rules.',
    )
    .setVersion('1')
    .addBearerAuth()
    .build();
  return SwaggerModule.createDocument(app, config);
}

/** Swagger UI at /docs and the JSON at /docs-json, outside the API prefix. */
export function setupSwagger(app: INestApplication): void {
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: 'docs-json',
    swaggerOptions: { persistAuthorization: true },
  });
}
