/**
 * Writes openapi.json from the DTOs (`npm run openapi`). Runs Nest in preview mode: the
 * module graph is built but no provider is instantiated, so no database is needed.
 */
import { NestFactory } from '@nestjs/core';
import fs from 'node:fs';
import path from 'node:path';
import { AppModule } from '../src/app.module';
import { buildOpenApiDocument, createHttpAdapter, setApiPrefix } from '../src/app.setup';
import { loadAppConfig } from '../src/config/app.config';

export const OPENAPI_FILE = path.resolve(__dirname, '../openapi.json');

export function serializeOpenApi(document: object): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}

async function main(): Promise<void> {
  const app = await NestFactory.create(AppModule, createHttpAdapter(), {
    preview: true,
    logger: false,
    abortOnError: false,
  });
  setApiPrefix(app, loadAppConfig().apiPrefix);
  fs.writeFileSync(OPENAPI_FILE, serializeOpenApi(buildOpenApiDocument(app)));
  await app.close();
  console.log(`Wrote ${path.relative(process.cwd(), OPENAPI_FILE)}`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
