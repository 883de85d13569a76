// The runtime every generated SDK calls, copied verbatim into each SDK (`runtime.ts`) and bundled into
// each operation's script. It is plain ES2020 with no imports and no Node or DOM API, so it runs in the
// QuickJS sandbox as it does in Node: the host injects the transport (the one way out, which resolves
// the server, attaches credentials by security scheme name and enforces the egress rules) and, where
// the global ones are absent, timers. The SDK never sees a credential and never calls fetch.

/** One HTTP request as the SDK asks the host to send it. */
export interface HttpRequest {
  /** The manifest's stable operation key. */
  readonly operation: string;
  /** Upper-case method. */
  readonly method: string;
  /**
   * Path and query relative to the server the host chose (`/pets/1?limit=2`), or an absolute URL
   * taken from a response's `Link` header: the host must check that one against its allowlist.
   */
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  /**
   * The operation's security alternatives (any one suffices; each lists schemes required together):
   * the host attaches the credentials. `[]` means none.
   */
  readonly security: SecurityRequirements;
  /**
   * The host should abort the exchange after this long, rejecting with an error named `TimeoutError`
   * (as `AbortSignal.timeout` does); the SDK gives up then in any case.
   */
  readonly timeoutMs: number;
}

export interface HttpResponse {
  readonly status: number;
  /** Header names in lower case; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export type Transport = (request: HttpRequest) => Promise<HttpResponse>;

export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface RetryOptions {
  /** Attempts in all, the first included (default 4). */
  readonly maxAttempts?: number;
  /** First backoff ceiling; doubled per attempt, with full jitter (default 200 ms). */
  readonly baseDelayMs?: number;
  /** Ceiling of one backoff (default 10 s). */
  readonly maxDelayMs?: number;
  /** A Retry-After longer than this is not waited out: the response is returned as an error (default 60 s). */
  readonly maxRetryAfterMs?: number;
}

export interface ClientOptions {
  readonly transport: Transport;
  readonly retry?: RetryOptions;
  /** Per attempt (default 30 s). */
  readonly timeoutMs?: number;
  /** Defaults to the global `setTimeout`/`clearTimeout`; a sandbox without them must pass its own. */
  readonly timers?: Timers;
  readonly random?: () => number;
  readonly now?: () => number;
}

export interface CallOptions {
  readonly timeoutMs?: number;
  readonly retry?: RetryOptions;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface Client {
  readonly options: ClientOptions;
}

export function createClient(options: ClientOptions): Client {
  return { options };
}

// A list rather than a record keyed by scheme name: spec text never becomes an object key in generated code.
export type SecurityRequirements = ReadonlyArray<
  ReadonlyArray<{ readonly scheme: string; readonly scopes: readonly string[] }>
>;

export type ParameterIn = 'path' | 'query' | 'header' | 'cookie';

/** What the generator emits for one operation: data only, read by `call` and `pages`. */
export interface OperationSpec {
  readonly key: string;
  readonly method: string;
  readonly path: string;
  readonly params: ReadonlyArray<{
    readonly name: string;
    readonly in: ParameterIn;
    readonly required: boolean;
    readonly style?: string;
    readonly explode?: boolean;
  }>;
  readonly body?: { readonly contentType: string; readonly required: boolean };
  readonly security: SecurityRequirements;
  readonly pagination?: PaginationSpec;
}

export type PaginationSpec =
  | { readonly kind: 'cursor'; readonly param: string; readonly next: string; readonly items?: string }
  | { readonly kind: 'offset'; readonly offsetParam: string; readonly limitParam?: string; readonly items?: string }
  | { readonly kind: 'page'; readonly pageParam: string; readonly sizeParam?: string; readonly items?: string }
  | { readonly kind: 'link-header'; readonly items?: string };

type Values = { readonly [name: string]: unknown };

export interface OperationInput {
  readonly path?: Values;
  readonly query?: Values;
  readonly headers?: Values;
  readonly cookies?: Values;
  readonly body?: unknown;
}

export interface ApiResponse<Status extends number = number, Body = unknown> {
  readonly status: Status;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Body;
}

/** The SDK's one error type: `code` says which boundary failed; `http_status` carries the response. */
export type SdkErrorCode = 'http_status' | 'timeout' | 'transport' | 'invalid_input';

export class SdkError extends Error {
  constructor(
    readonly code: SdkErrorCode,
    message: string,
    readonly operation: string,
  ) {
    super(message);
    this.name = 'SdkError';
  }
}

/** A response outside 2xx, typed by the operation's declared error responses. */
export class ApiError<R extends ApiResponse = ApiResponse> extends SdkError {
  readonly status: R['status'];
  readonly body: R['body'];
  readonly headers: R['headers'];

  constructor(operation: string, response: R) {
    super('http_status', `${operation} answered HTTP ${response.status}`, operation);
    this.name = 'ApiError';
    this.status = response.status;
    this.body = response.body;
    this.headers = response.headers;
  }
}

export function isApiError(error: unknown): error is ApiError {
  return error instanceof ApiError;
}

const RETRY_STATUSES = [408, 409, 429];
const IDEMPOTENT = ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'];

function own(values: Values | undefined, name: string): unknown {
  // Own properties only: a parameter named `__proto__` or `constructor` must not read the prototype.
  return values !== undefined && Object.prototype.hasOwnProperty.call(values, name) ? values[name] : undefined;
}

function groupOf(where: ParameterIn): 'path' | 'query' | 'headers' | 'cookies' {
  return where === 'header' ? 'headers' : where === 'cookie' ? 'cookies' : where;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** Name/value pairs of an object, or `undefined` when the value is not a plain object. */
function entries(value: unknown): Array<[string, unknown]> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? Object.keys(value).map((key) => [key, (value as Values)[key]])
    : undefined;
}

/** encodeURIComponent that cannot throw: a lone surrogate (which it refuses) becomes U+FFFD. */
function enc(value: string): string {
  return encodeURIComponent(
    value.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd'),
  );
}

function serializeQuery(name: string, value: unknown, style: string, explode: boolean): string[] {
  if (Array.isArray(value)) {
    if (explode && style !== 'spaceDelimited' && style !== 'pipeDelimited')
      return value.map((item) => `${enc(name)}=${enc(text(item))}`);
    const separator = style === 'spaceDelimited' ? '%20' : style === 'pipeDelimited' ? '|' : ',';
    return [`${enc(name)}=${value.map((item) => enc(text(item))).join(separator)}`];
  }
  const pairs = entries(value);
  if (pairs !== undefined) {
    if (style === 'deepObject') return pairs.map(([key, item]) => `${enc(`${name}[${key}]`)}=${enc(text(item))}`);
    if (explode) return pairs.map(([key, item]) => `${enc(key)}=${enc(text(item))}`);
    return [`${enc(name)}=${pairs.map(([key, item]) => `${enc(key)},${enc(text(item))}`).join(',')}`];
  }
  return [`${enc(name)}=${enc(text(value))}`];
}

/** `simple` style (path and header parameters), each part encoded by `encode`. */
function serializeSimple(value: unknown, explode: boolean, encode: (part: string) => string): string {
  if (Array.isArray(value)) return value.map((item) => encode(text(item))).join(',');
  const pairs = entries(value);
  if (pairs !== undefined)
    return pairs.map(([key, item]) => `${encode(key)}${explode ? '=' : ','}${encode(text(item))}`).join(',');
  return encode(text(value));
}

function serializeBody(contentType: string, body: unknown): string {
  if (/[/+]json\b/i.test(contentType)) return JSON.stringify(body);
  if (/^application\/x-www-form-urlencoded/i.test(contentType)) {
    const pairs = entries(body) ?? [];
    return pairs
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => `${enc(key)}=${enc(text(value))}`)
      .join('&');
  }
  return text(body);
}

/** Builds the request for one attempt; `url` overrides path and query (a `Link` header's next page). */
export function buildRequest(
  spec: OperationSpec,
  input: OperationInput,
  options: CallOptions & { url?: string; timeoutMs: number },
): HttpRequest {
  const invalid = (message: string): SdkError => new SdkError('invalid_input', message, spec.key);
  const query: string[] = [];
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  let path = spec.path;
  // A header name must be an HTTP token and a value must not break the line: neither a spec's parameter
  // names nor a caller's values may smuggle another header in. defineProperty: a name such as
  // `__proto__` is stored as a header, never as the object's prototype.
  const setHeader = (name: string, value: string): void => {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name))
      throw invalid(`${spec.key}: ${JSON.stringify(name)} is not a valid HTTP header name`);
    if (/[\r\n\0]/.test(value)) throw invalid(`${spec.key}: the header '${name}' holds a line break`);
    Object.defineProperty(headers, name.toLowerCase(), { value, enumerable: true, writable: true, configurable: true });
  };
  for (const param of spec.params) {
    const value = own(input[groupOf(param.in)], param.name);
    if (value === undefined || value === null) {
      if (param.required) throw invalid(`${spec.key}: the ${param.in} parameter '${param.name}' is required`);
      continue;
    }
    if (param.in === 'path') {
      // Split and join instead of a RegExp or replace(): a name or value may hold `$&` or RegExp syntax.
      path = path.split(`{${param.name}}`).join(serializeSimple(value, param.explode ?? false, enc));
    } else if (param.in === 'query') {
      query.push(...serializeQuery(param.name, value, param.style ?? 'form', param.explode ?? true));
    } else if (param.in === 'header') {
      setHeader(
        param.name,
        serializeSimple(value, param.explode ?? false, (part) => part),
      );
    } else {
      cookies.push(`${enc(param.name)}=${enc(text(value))}`);
    }
  }
  // A path parameter's value is data (a record's id): `.` or `..` as a whole segment is a dot segment that
  // every URL parser resolves, sending the call to another endpoint (`/users/..` is `/`). No encoding
  // avoids it (WHATWG URL reads `%2e%2e` as `..` too), so it is refused.
  const dotSegment = (p: string): boolean => p.split('/').some((segment) => segment === '.' || segment === '..');
  if (path !== spec.path && dotSegment(path) && !dotSegment(spec.path))
    throw invalid(`${spec.key}: a path parameter makes a '.' or '..' segment of the path`);
  if (cookies.length > 0) setHeader('cookie', cookies.join('; '));
  for (const [name, value] of entries(options.headers) ?? []) setHeader(name, text(value));
  let body: string | undefined;
  if (spec.body !== undefined && input.body !== undefined) {
    body = serializeBody(spec.body.contentType, input.body);
    setHeader('content-type', spec.body.contentType);
  } else if (spec.body?.required === true) {
    throw invalid(`${spec.key}: a request body is required`);
  }
  const url = options.url ?? (query.length > 0 ? `${path}?${query.join('&')}` : path);
  return {
    operation: spec.key,
    method: spec.method.toUpperCase(),
    url,
    headers,
    ...(body === undefined ? {} : { body }),
    security: spec.security,
    timeoutMs: options.timeoutMs,
  };
}

/** Name and message of anything thrown, by shape: a host's errors may come from another realm. */
function described(error: unknown): { name: string; message: string } {
  if (error !== null && typeof error === 'object') {
    const { name, message } = error as { name?: unknown; message?: unknown };
    return { name: typeof name === 'string' ? name : '', message: typeof message === 'string' ? message : text(error) };
  }
  return { name: '', message: text(error) };
}

function timersOf(options: ClientOptions): Timers {
  if (options.timers !== undefined) return options.timers;
  const global = globalThis as unknown as Partial<Timers>;
  if (typeof global.setTimeout !== 'function' || typeof global.clearTimeout !== 'function')
    throw new Error('this environment has no timers: pass ClientOptions.timers');
  return { setTimeout: global.setTimeout.bind(globalThis), clearTimeout: global.clearTimeout.bind(globalThis) };
}

function sleep(timers: Timers, ms: number): Promise<void> {
  return new Promise((resolve) => {
    timers.setTimeout(resolve, ms);
  });
}

function withTimeout<T>(timers: Timers, promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const handle = timers.setTimeout(() => reject(onTimeout()), ms);
    promise.then(
      (value) => {
        timers.clearTimeout(handle);
        resolve(value);
      },
      (error: unknown) => {
        timers.clearTimeout(handle);
        reject(error);
      },
    );
  });
}

/** Milliseconds a `Retry-After` value asks for (delay-seconds or an HTTP-date), or undefined. */
export function retryAfterMs(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function parseBody(response: HttpResponse): unknown {
  const type = response.headers['content-type'] ?? '';
  if (response.body === '' || !/[/+]json\b/i.test(type)) return response.body;
  try {
    return JSON.parse(response.body) as unknown;
  } catch {
    return response.body;
  }
}

/**
 * Sends one operation: retries 408, 409, 429 and 5xx (and, for idempotent methods, timeouts and
 * transport failures) with exponential backoff and full jitter, waiting out a Retry-After instead
 * when one is given. Resolves with a 2xx response; anything else throws an ApiError or SdkError.
 */
export async function call(
  client: Client,
  spec: OperationSpec,
  input: OperationInput,
  options: CallOptions & { url?: string } = {},
): Promise<ApiResponse> {
  const settings = client.options;
  const retry = { ...settings.retry, ...options.retry };
  const maxAttempts = Math.max(1, retry.maxAttempts ?? 4);
  const baseDelay = retry.baseDelayMs ?? 200;
  const maxDelay = retry.maxDelayMs ?? 10_000;
  const maxRetryAfter = retry.maxRetryAfterMs ?? 60_000;
  const timeoutMs = options.timeoutMs ?? settings.timeoutMs ?? 30_000;
  const timers = timersOf(settings);
  const random = settings.random ?? Math.random;
  const now = settings.now ?? Date.now;
  const request = buildRequest(spec, input, { ...options, timeoutMs });
  const idempotent = IDEMPOTENT.includes(request.method);
  const backoff = (attempt: number): number => random() * Math.min(maxDelay, baseDelay * 2 ** (attempt - 1));

  for (let attempt = 1; ; attempt += 1) {
    let response: HttpResponse;
    try {
      response = await withTimeout(
        timers,
        settings.transport(request),
        timeoutMs,
        () => new SdkError('timeout', `${spec.key} got no response within ${timeoutMs} ms`, spec.key),
      );
    } catch (error) {
      const failure =
        error instanceof SdkError
          ? error
          : described(error).name === 'TimeoutError'
            ? new SdkError('timeout', `${spec.key} got no response within ${timeoutMs} ms`, spec.key)
            : new SdkError('transport', `${spec.key} failed: ${described(error).message}`, spec.key);
      if (!idempotent || attempt >= maxAttempts) throw failure;
      await sleep(timers, backoff(attempt));
      continue;
    }
    const parsed: ApiResponse = { status: response.status, headers: response.headers, body: parseBody(response) };
    if (response.status >= 200 && response.status < 300) return parsed;
    const retryable = RETRY_STATUSES.includes(response.status) || response.status >= 500;
    if (retryable && attempt < maxAttempts) {
      const asked = retryAfterMs(response.headers['retry-after'], now());
      if (asked === undefined || asked <= maxRetryAfter) {
        await sleep(timers, asked ?? backoff(attempt));
        continue;
      }
    }
    throw new ApiError(spec.key, parsed);
  }
}

/** The value at an RFC 6901 JSON pointer (`/data/items`), own properties only. */
export function pointer(document: unknown, path: string): unknown {
  if (path === '' || path === '#') return document;
  let current = document;
  for (const raw of path.replace(/^#/, '').split('/').slice(1)) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (current === null || typeof current !== 'object') return undefined;
    current = own(current as Values, token);
  }
  return current;
}

function itemsOf(body: unknown, items: string | undefined): unknown[] | undefined {
  const value = items === undefined ? body : pointer(body, items);
  return Array.isArray(value) ? value : undefined;
}

/** The `rel="next"` target of an RFC 8288 Link header. */
export function nextLink(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>(.*)$/.exec(part);
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(match?.[2] ?? '');
    if (match !== null && rel !== null && (rel[1] ?? rel[2] ?? '').toLowerCase().split(/\s+/).includes('next'))
      return match[1];
  }
  return undefined;
}

/** One page: the response, and the items the pagination's `items` pointer (or an array body) holds. */
export type Page<R, Item = unknown> = R & { readonly items: Item[] };

export interface PageOptions extends CallOptions {
  /** Stops after this many pages (default 10,000): a server that never ends cannot loop forever. */
  readonly maxPages?: number;
}

function withQuery(input: OperationInput, name: string, value: unknown): OperationInput {
  return { ...input, query: { ...input.query, [name]: value } };
}

function numberIn(values: Values | undefined, name: string, fallback: number): number {
  const value = Number(own(values, name));
  return Number.isFinite(value) ? value : fallback;
}

/**
 * Every page of a paginated operation, following the manifest's pagination kind: a cursor read from
 * the body, an offset or page number advanced by the items received, or a `Link: rel="next"` header.
 * Stops on an empty page, a short page (when the page size is known), a repeated cursor or no next link.
 */
export async function* pages(
  client: Client,
  spec: OperationSpec,
  first: OperationInput,
  options: PageOptions = {},
): AsyncGenerator<Page<ApiResponse>, void, undefined> {
  const pagination = spec.pagination;
  const maxPages = options.maxPages ?? 10_000;
  let input = first;
  let url: string | undefined;
  const seen = new Set<string>();
  for (let count = 0; count < maxPages; count += 1) {
    const response = await call(client, spec, input, url === undefined ? options : { ...options, url });
    const items = itemsOf(response.body, pagination?.items) ?? [];
    yield { ...response, items };
    if (pagination === undefined) return;
    if (pagination.kind === 'cursor') {
      const next = pointer(response.body, pagination.next);
      if (next === undefined || next === null || next === '' || seen.has(text(next))) return;
      seen.add(text(next));
      input = withQuery(input, pagination.param, next);
    } else if (pagination.kind === 'link-header') {
      url = nextLink(response.headers['link']);
      if (url === undefined || seen.has(url)) return;
      seen.add(url);
    } else {
      if (items.length === 0) return;
      const sizeParam = pagination.kind === 'offset' ? pagination.limitParam : pagination.sizeParam;
      const size = sizeParam === undefined ? undefined : Number(own(input.query, sizeParam));
      if (size !== undefined && Number.isFinite(size) && items.length < size) return;
      input =
        pagination.kind === 'offset'
          ? withQuery(input, pagination.offsetParam, numberIn(input.query, pagination.offsetParam, 0) + items.length)
          : withQuery(input, pagination.pageParam, numberIn(input.query, pagination.pageParam, 1) + 1);
    }
  }
}
