import { INestApplication, RequestMethod, ValidationPipe } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { NestExpressApplication } from '@nestjs/platform-express';
import helmet from 'helmet';
import { isUtf8 } from 'node:buffer';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { AllExceptionsFilter } from './common/filters/all-exceptions.filter';
import { DrainingService } from './common/shutdown/draining.service';
import { AllConfigType } from './config/config.type';
import { validationOptions } from './utils/validation-options';

/**
 * JSON is UTF-8 (RFC 8259); body-parser would decode bad bytes leniently into U+FFFD and the
 * push would store something else than was sent.
 */
function rejectInvalidUtf8(_req: unknown, _res: unknown, buffer: Buffer, encoding: string): void {
  if (/^utf-?8$/i.test(encoding) && !isUtf8(buffer)) {
    throw Object.assign(new Error('Request body is not valid UTF-8'), {
      status: 400,
      type: 'entity.verify.failed',
    });
  }
}

/**
 * Prefix, pipes, filters and interceptors. main.ts and the e2e tests both call this, since
 * `createTestingModule` never runs main.ts.
 */
export function configureApp(app: INestApplication): INestApplication {
  const config = app.get(ConfigService<AllConfigType, true>);
  // First, so a request counts as in flight from its headers on, even while its body uploads.
  app.use(app.get(DrainingService).middleware);
  // A 10k-record push is a few MB; body-parser's default limit is 100 kB.
  (app as NestExpressApplication).useBodyParser('json', {
    limit: config.get('app.bodyLimit', { infer: true }),
    verify: rejectInvalidUtf8,
  });
  setApiPrefix(app, config.get('app.apiPrefix', { infer: true }));
  app.use(helmet());
  // Express would hash every response for an ETag; a multi-MB pull is never served from cache.
  (app as NestExpressApplication).set('etag', false);
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
  app.setGlobalPrefix(prefix, { exclude: [{ path: 'health', method: RequestMethod.GET }] });
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
