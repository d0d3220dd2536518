import SwaggerParser from '@apidevtools/swagger-parser';
import fs from 'node:fs';
import path from 'node:path';
import type { OpenAPI } from 'openapi-types';
import { buildOpenApiDocument } from '../src/app.setup';
import { SYNC_TABLE_NAMES, SYNC_TABLES, wireColumns } from '../src/sync/registry/sync-tables';
import { syncApi } from './utils/sync-api';
import { createTestApp, registerDevice, TestApp } from './utils/test-app';

const COMMITTED = path.resolve(__dirname, '../openapi.json');

describe('OpenAPI document (e2e)', () => {
  let t: TestApp;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a parsed JSON document, walked by key
  let generated: Record<string, any>;

  beforeAll(async () => {
    t = await createTestApp();
    generated = JSON.parse(JSON.stringify(buildOpenApiDocument(t.app)));
  });
  afterAll(() => t.close());

  it('is the committed openapi.json (run `npm run openapi` after changing a DTO)', () => {
    const committed = JSON.parse(fs.readFileSync(COMMITTED, 'utf8'));
    expect(generated).toEqual(committed);
  });

  it('validates as OpenAPI 3', async () => {
    const api = (await SwaggerParser.validate(structuredClone(generated) as OpenAPI.Document)) as {
      openapi: string;
    };
    expect(api.openapi).toMatch(/^3\./);
  });

  it('is served at /docs-json, with Swagger UI at /docs', async () => {
    const json = await t.http().get('/docs-json').expect(200);
    expect(json.body).toEqual(generated);
    const ui = await t.http().get('/docs').expect(200);
    expect(ui.text).toContain('swagger-ui');
  });

  it('names every column of every synced table, with its limits', () => {
    const schemas = generated.components.schemas;
    for (const table of SYNC_TABLES) {
      const record = schemas[`${table.recordName}Record`];
      expect(Object.keys(record.properties)).toEqual(wireColumns(table));
      expect(record.required).toEqual(wireColumns(table));
      const changes = schemas[`${table.recordName}sChanges`];
      expect(changes.properties.updated.items.$ref).toBe(
        `#/components/schemas/${table.recordName}Record`,
      );
      expect(changes.properties.deleted.items.type).toBe('string');
      expect(schemas.SyncChanges.properties[table.name].$ref).toBe(
        `#/components/schemas/${table.recordName}sChanges`,
      );
    }
    expect(schemas.GameRecord.properties.name).toMatchObject({
      type: 'string',
      maxLength: 200,
      nullable: true,
    });
    expect(schemas.ScoreRecord.properties.raw_score).toMatchObject({
      type: 'integer',
      format: 'int32',
      minimum: -(2 ** 31),
    });
    expect(schemas.RoundRecord.properties.created_at).toMatchObject({
      type: 'integer',
      format: 'int64',
    });
  });

  it('documents the live changes stream, and the replacement pull key', () => {
    const events = generated.paths['/api/v1/sync/events'].get;
    expect(Object.keys(events.responses['200'].content)).toEqual(['text/event-stream']);
    expect(events.responses['429']).toBeDefined();
    expect(events.security).toEqual([{ bearer: [] }]);
    expect(
      generated.components.schemas.PullResponseDto.properties.experimentalStrategy,
    ).toMatchObject({ enum: ['replacement'] });
  });

  it('documents the push body, with an example', () => {
    const body = generated.paths['/api/v1/sync/push'].post.requestBody.content['application/json'];
    expect(body.schema.$ref).toBe('#/components/schemas/PushBodyDto');
    const dto = generated.components.schemas.PushBodyDto;
    expect(dto.properties.changes.$ref ?? dto.properties.changes.allOf?.[0]?.$ref).toBe(
      '#/components/schemas/SyncChanges',
    );
    expect(dto.required).toEqual(['changes', 'last_pulled_at']);
  });

  it('has a push example of every table that succeeds as-is, and again when replayed', async () => {
    const { properties } = generated.components.schemas.PushBodyDto;
    const example = {
      changes: properties.changes.example,
      last_pulled_at: properties.last_pulled_at.example,
    };
    expect(Object.keys(example.changes)).toEqual(SYNC_TABLE_NAMES);
    const device = await registerDevice(t);
    for (const attempt of ['as-is', 'replayed']) {
      const response = await t.http().post('/api/v1/sync/push').set(device.auth).send(example);
      expect({ attempt, status: response.status, body: response.body }).toEqual({
        attempt,
        status: 200,
        body: { ok: true },
      });
    }
    // Stored with every column; `_status` and `_changed` ignored.
    const { changes } = await syncApi(t, device).pullOk();
    for (const table of SYNC_TABLES) {
      const stored = example.changes[table.name].created.map((record: Record<string, unknown>) =>
        Object.fromEntries(wireColumns(table).map((column) => [column, record[column]])),
      );
      expect(changes[table.name].updated).toEqual(stored);
    }
  });

  it('documents the error answers of push with their body schemas', () => {
    const responses = generated.paths['/api/v1/sync/push'].post.responses;
    const ref = (status: string) => responses[status].content['application/json'].schema.$ref;
    expect(ref('400')).toBe('#/components/schemas/ErrorResponseDto');
    expect(ref('401')).toBe('#/components/schemas/ErrorResponseDto');
    expect(ref('409')).toBe('#/components/schemas/ConflictResponseDto');
    expect(ref('413')).toBe('#/components/schemas/ErrorResponseDto');
    expect(ref('422')).toBe('#/components/schemas/UnprocessableResponseDto');
  });
});
