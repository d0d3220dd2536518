import type { FastifyRequest } from 'fastify';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { jsonBodyParser } from './json-body.parser';

const LIMIT = 1024;

/** Runs the parser as Fastify would: the body's bytes and the request's headers. */
function parse(body: Buffer, headers: Record<string, string> = {}) {
  const request = { headers: { 'content-type': 'application/json', ...headers } };
  return new Promise<{ status?: number; message?: string; value?: unknown }>((resolve) =>
    jsonBodyParser(LIMIT)(request as unknown as FastifyRequest, body, (error, value) =>
      resolve(
        error
          ? { status: (error as Error & { statusCode: number }).statusCode, message: error.message }
          : { value },
      ),
    ),
  );
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('jsonBodyParser', () => {
  it('parses a JSON object or array in UTF-8', async () => {
    expect(await parse(json({ a: 'é🎲' }))).toEqual({ value: { a: 'é🎲' } });
    expect(await parse(json([1]), { 'content-type': 'application/json; charset=UTF-8' })).toEqual({
      value: [1],
    });
  });

  it.each([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
  ])('inflates a %s body', async (encoding, compress) => {
    const body = compress(json({ ok: true }));
    expect(await parse(body, { 'content-encoding': encoding })).toEqual({ value: { ok: true } });
  });

  it('answers 413 for a body that inflates past the limit', async () => {
    const body = gzipSync(Buffer.from(`{"a":"${' '.repeat(LIMIT)}"}`));
    expect(body.length).toBeLessThan(LIMIT);
    expect(await parse(body, { 'content-encoding': 'gzip' })).toMatchObject({ status: 413 });
  });

  it('answers 400 for a body that is not what its Content-Encoding says', async () => {
    expect(await parse(json({}), { 'content-encoding': 'gzip' })).toMatchObject({ status: 400 });
  });

  it.each(['compress', 'x-foo', 'gzip, gzip', '__proto__'])(
    'answers 415 for Content-Encoding %s',
    async (encoding) => {
      expect(await parse(json({}), { 'content-encoding': encoding })).toMatchObject({
        status: 415,
      });
    },
  );

  it.each(['latin1', 'utf-16', 'x-unknown'])('answers 415 for charset %s', async (charset) => {
    const headers = { 'content-type': `application/json; charset=${charset}` };
    expect(await parse(json({}), headers)).toMatchObject({ status: 415 });
  });

  it.each([
    ['bytes that are not UTF-8', Buffer.from([0x7b, 0xff, 0x7d])],
    ['a JSON string at the top', json('text')],
    ['a number at the top', Buffer.from(' 42')],
    ['an empty body', Buffer.alloc(0)],
    ['broken JSON', Buffer.from('{"a":')],
  ])('answers 400 for %s', async (_case, body) => {
    expect(await parse(body)).toMatchObject({ status: 400 });
  });
});
