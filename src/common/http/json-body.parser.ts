import type { FastifyRequest } from 'fastify';
import { isUtf8 } from 'node:buffer';
import { brotliDecompress, gunzip, inflate } from 'node:zlib';

type Done = (error: Error | null, body?: unknown) => void;

/** A 4xx that the exception filter answers with this message (see AllExceptionsFilter). */
const clientError = (statusCode: number, message: string) =>
  Object.assign(new Error(message), { statusCode });

type Inflate = (
  body: Buffer,
  options: { maxOutputLength: number },
  callback: (error: Error | null, inflated: Buffer) => void,
) => void;
const INFLATE: Record<string, Inflate> = { gzip: gunzip, deflate: inflate, br: brotliDecompress };

/**
 * JSON request bodies, read the way Express's body-parser (strict mode) read them before the
 * move to Fastify, so that clients see the same answers:
 * - Content-Encoding gzip, deflate or br is inflated, and the inflated body must fit the limit
 *   too (413); another encoding is 415;
 * - UTF-8 only (RFC 8259): another charset is 415, bytes that are not UTF-8 are 400 (a lenient
 *   decoder would store U+FFFD, something else than was sent);
 * - an object or an array at the top, else 400; then JSON.parse.
 */
export function jsonBodyParser(limit: number) {
  return (request: FastifyRequest, body: Buffer, done: Done): void => {
    const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(request.headers['content-type'] ?? '');
    if (charset && charset[1].toLowerCase() !== 'utf-8' && charset[1].toLowerCase() !== 'utf8') {
      return done(clientError(415, `Unsupported charset "${charset[1]}": send UTF-8`));
    }
    const encoding = (request.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding === 'identity') return parse(body, done);
    const inflateWith = Object.hasOwn(INFLATE, encoding) ? INFLATE[encoding] : undefined;
    if (!inflateWith) {
      return done(clientError(415, `Unsupported content encoding "${encoding}"`));
    }
    inflateWith(body, { maxOutputLength: limit }, (error, inflated) => {
      if (!error) return parse(inflated, done);
      const tooLarge = (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
      done(
        tooLarge
          ? clientError(413, 'Request body is too large')
          : clientError(400, `Request body is not valid ${encoding} data`),
      );
    });
  };
}

function parse(body: Buffer, done: Done): void {
  if (!isUtf8(body)) return done(clientError(400, 'Request body is not valid UTF-8'));
  const text = body.toString('utf8');
  const first = /\S/.exec(text)?.[0];
  if (first !== '{' && first !== '[') {
    return done(clientError(400, 'Request body must be a JSON object or array'));
  }
  try {
    done(null, JSON.parse(text));
  } catch (error) {
    done(clientError(400, (error as Error).message));
  }
}
