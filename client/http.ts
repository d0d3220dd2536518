/** Where the server is and how to reach it: shared by syncDatabase and AccountClient. */
export type ApiOptions = {
  /** Server origin, e.g. `https://sync.example.com` (no trailing slash, no `/api/v1`). */
  apiUrl: string;
  /** Defaults to the global `fetch`; injectable for tests and custom transports. */
  fetch?: typeof fetch;
};

/**
 * A non-2xx answer of the server. Throwing (rather than returning) is what keeps a refused push
 * from being marked as synced: WatermelonDB only marks local changes once pushChanges resolves.
 */
export class SyncHttpError extends Error {
  override readonly name = 'SyncHttpError';

  constructor(
    message: string,
    readonly status: number,
    /** The parsed JSON error body (`{ statusCode, message, conflicts? }`), or its raw text. */
    readonly body: unknown,
  ) {
    super(message);
  }
}

/**
 * One API call (`path` under the origin, e.g. `/api/v1/sync/pull`): resolves with the parsed JSON
 * body of a 2xx answer (undefined when empty), throws SyncHttpError otherwise. `what` names the
 * call in the error message; `token`, when given, goes in the Authorization header.
 */
export async function apiRequest(
  options: ApiOptions,
  what: string,
  path: string,
  init: RequestInit & { token?: string; json?: unknown } = {},
): Promise<unknown> {
  const { token, json, ...rest } = init;
  // No Accept-Encoding here: fetch asks for gzip (or br) by itself and inflates the answer, on
  // React Native (OkHttp, NSURLSession) as in Node. Set by hand, it would stop OkHttp inflating.
  const headers: Record<string, string> = { ...(rest.headers as Record<string, string>) };
  if (token !== undefined) headers.Authorization = `Bearer ${token}`;
  if (json !== undefined) headers['Content-Type'] = 'application/json';
  const response = await (options.fetch ?? fetch)(`${options.apiUrl}${path}`, {
    ...rest,
    headers,
    body: json !== undefined ? JSON.stringify(json) : rest.body,
  });
  const text = await response.text();
  let body: unknown = text === '' ? undefined : text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON (a proxy's error page, an empty body): keep the text.
  }
  if (response.ok) return body;
  const detail = (body as { message?: unknown } | null)?.message ?? text;
  throw new SyncHttpError(
    `${what} failed with HTTP ${response.status}: ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`,
    response.status,
    body,
  );
}
