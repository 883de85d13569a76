import Ajv2020 from 'ajv/dist/2020';
import type { ErrorObject, ValidateFunction } from 'ajv';
import {
  DataflowError,
  DataflowErrorCode,
  type HttpRequest,
  type HttpResponse,
  type HttpSend,
} from '@vansales/dataflow';
import type { JsonSchemaValue, Operation, OperationManifest } from '../manifest';
import type { HostHttp } from '../sandbox/egress';
import { SandboxError, SandboxErrorCode } from '../sandbox/errors';
import { exchangeApiOperation, type ApiOperationHost } from './run-api-operation';

/**
 * A definition's HTTP step that names an API operation keeps the HTTP steps' machinery (pagination,
 * records, batching, Idempotency-Key, retries with Retry-After, heartbeat resume, the buffer sink) and
 * swaps only its `send`: each request the step makes becomes the operation's input (path parameters
 * read back against the operation's path template, query, declared headers, body), is checked against
 * the operation's schemas, and runs through the operation's generated bundle in the sandbox, so the
 * SDK's own checks, the host-attached credentials of its security scheme and the egress guard apply
 * to every page and every record. What the step does beyond what the operation declares (another
 * method, a path the template does not match, an undeclared query parameter) is refused, not dropped.
 */
export interface OperationTransportOptions {
  manifest: OperationManifest;
  operationKey: string;
  /** The operation's bundle (verified by whoever loaded it). */
  bundle: string;
  /** Where the API is reachable from this side (the step's endpoint base URL, the site policy's API). */
  serverUrl: string;
  /** The definition step, named in every refusal. */
  stepId: string;
  /** After each call, for the audit: status (0 when no answer came), sizes and duration; never bodies or parameters. */
  onCall?: (call: OperationCallFacts) => void;
  now?: () => number;
}

export interface OperationCallFacts {
  status: number;
  requestBytes: number;
  responseBytes: number;
  durationMs: number;
}

type Input = {
  path?: Record<string, unknown>;
  query?: Record<string, unknown>;
  headers?: Record<string, unknown>;
  body?: unknown;
};

/** Headers the HTTP steps set that are not the operation's parameters: sent beside them. */
const PASSED_HEADERS = new Set(['accept', 'idempotency-key']);

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** `/customers/{id}/orders` -> a RegExp with one group per parameter, and the names in order. */
function templateMatcher(path: string): { pattern: RegExp; names: string[] } {
  const names: string[] = [];
  const source = path
    .split(/(\{[^{}]+\})/)
    .map((part) => {
      const m = /^\{([^{}]+)\}$/.exec(part);
      if (!m) return escapeRegExp(part);
      names.push(m[1]!);
      return '([^/]+)';
    })
    .join('');
  return { pattern: new RegExp(`^${source}/?$`), names };
}

/**
 * The input's JSON Schema, rooted where the manifest's `#/schemas/<name>` references resolve. Query,
 * path and header values come as text from a URL, so the parameters' validator coerces (`"2"` to 2
 * where an integer is declared); the body's does not.
 */
function inputValidators(manifest: OperationManifest, operation: Operation) {
  const groups = { path: 'path', query: 'query', header: 'headers' } as const;
  const properties: Record<string, JsonSchemaValue> = {};
  for (const [where, group] of Object.entries(groups)) {
    const params = operation.parameters.filter((p) => p.in === where);
    if (!params.length) continue;
    properties[group] = {
      type: 'object',
      properties: Object.fromEntries(params.map((p) => [p.name, p.schema])),
      required: params.filter((p) => p.required).map((p) => p.name),
    };
  }
  const options = { strict: false, validateFormats: false, allErrors: false } as const;
  const params = new Ajv2020({ ...options, coerceTypes: 'array' }).compile({
    schemas: manifest.schemas,
    type: 'object',
    properties,
  });
  const bodySchema = operation.requestBody?.content.find((c) => /[/+]json\b/i.test(c.contentType))?.schema;
  const body =
    bodySchema === undefined
      ? undefined
      : new Ajv2020(options).compile({ schemas: manifest.schemas, allOf: [bodySchema] });
  return { params, body };
}

function firstProblem(validate: ValidateFunction, where: string): string {
  const error: ErrorObject | undefined = validate.errors?.[0];
  if (!error) return `${where} is not valid`;
  const at = `${where}${error.instancePath}`.replace(/\/$/, '');
  return `${at} ${error.message ?? 'is not valid'}`;
}

export function operationTransport(options: OperationTransportOptions, host: ApiOperationHost): HttpSend {
  const { manifest, operationKey, stepId } = options;
  const refuse = (message: string) => new DataflowError(DataflowErrorCode.BAD_REQUEST, `step ${stepId}: ${message}`);
  const operation = manifest.operations.find((o) => o.key === operationKey);
  if (!operation) throw refuse(`the API has no operation ${JSON.stringify(operationKey)}`);
  const title = `operation ${operationKey} (${operation.method.toUpperCase()} ${operation.path})`;
  let base: URL;
  try {
    base = new URL(options.serverUrl);
  } catch {
    throw refuse(`the API's base URL ${JSON.stringify(options.serverUrl.slice(0, 200))} is not a URL`);
  }
  const basePath = base.pathname.replace(/\/+$/, '');
  const matcher = templateMatcher(operation.path);
  const validators = inputValidators(manifest, operation);
  const now = options.now ?? Date.now;

  /** The request the step made, as the operation's input. */
  const inputOf = (request: HttpRequest): { input: Input; headers: Record<string, string> } => {
    if (request.method.toLowerCase() !== operation.method)
      throw refuse(
        `${title} is not called with ${request.method}: set the step's method to ${operation.method.toUpperCase()}`,
      );
    if (request.url.origin !== base.origin)
      throw new DataflowError(
        DataflowErrorCode.HTTP_REFUSED,
        `step ${stepId}: ${request.url.origin} is not the API's server ${base.origin}`,
      );
    const pathname = request.url.pathname;
    const rest = pathname.startsWith(`${basePath}/`) ? pathname.slice(basePath.length) : undefined;
    const found = rest === undefined ? null : matcher.pattern.exec(rest);
    if (!found) throw refuse(`the path ${pathname} is not ${title} under ${basePath || '/'}`);
    const input: Input = {};
    if (matcher.names.length) {
      input.path = {};
      matcher.names.forEach((name, i) => {
        let value: string;
        try {
          value = decodeURIComponent(found[i + 1]!);
        } catch {
          throw refuse(`the path parameter ${name} is not URL-encoded text`);
        }
        Object.defineProperty(input.path, name, { value, enumerable: true, writable: true, configurable: true });
      });
    }
    for (const [name, value] of request.url.searchParams) {
      const param = operation.parameters.find((p) => p.in === 'query' && p.name === name);
      if (!param) throw refuse(`${JSON.stringify(name)} is not a query parameter of ${title}`);
      input.query ??= {};
      const had = Object.prototype.hasOwnProperty.call(input.query, name) ? input.query[name] : undefined;
      const next = had === undefined ? value : Array.isArray(had) ? [...had, value] : [had, value];
      Object.defineProperty(input.query, name, { value: next, enumerable: true, writable: true, configurable: true });
    }
    const headers: Record<string, string> = {};
    for (const [rawName, value] of Object.entries(request.headers)) {
      const name = rawName.toLowerCase();
      const param = operation.parameters.find((p) => p.in === 'header' && p.name.toLowerCase() === name);
      if (param) {
        input.headers ??= {};
        Object.defineProperty(input.headers, param.name, {
          value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } else if (PASSED_HEADERS.has(name)) headers[name] = value;
    }
    if (!validators.params(input))
      throw refuse(`${title} refuses the request: ${firstProblem(validators.params, 'request')}`);
    if (request.body !== undefined && request.body.length > 0) {
      if (!operation.requestBody) throw refuse(`${title} takes no request body`);
      const json = operation.requestBody.content.some((c) => /[/+]json\b/i.test(c.contentType));
      const text = request.body.toString('utf8');
      if (json) {
        try {
          input.body = JSON.parse(text) as unknown;
        } catch {
          throw refuse(`the request body is not JSON, which ${title} takes`);
        }
        if (validators.body && !validators.body(input.body))
          throw refuse(`${title} refuses the request: ${firstProblem(validators.body, 'body')}`);
      } else input.body = text;
    }
    return { input, headers };
  };

  return async (request: HttpRequest): Promise<HttpResponse> => {
    const { input, headers } = inputOf(request);
    const started = now();
    let status = 0;
    let requestBytes = 0;
    let responseBytes = 0;
    // The host side of the call: its errors keep their kind (the guard's refusals stay refusals, an
    // unreachable API stays retryable) instead of reaching the step as the VM's rethrown text.
    let hostError: unknown;
    const watched =
      (http: HostHttp): HostHttp =>
      async (req, signal) => {
        requestBytes += Buffer.byteLength(req.body ?? '', 'utf8');
        try {
          const res = await http(req, signal);
          status = res.status;
          responseBytes += Buffer.byteLength(res.body, 'utf8');
          return res;
        } catch (err) {
          hostError ??= err;
          throw err;
        }
      };
    try {
      const answer = await exchangeApiOperation(
        {
          manifest,
          operationKey,
          bundle: options.bundle,
          input,
          headers,
          serverUrl: `${base.origin}${basePath}`,
        },
        host,
        watched,
      );
      return {
        status: answer.status,
        headers: answer.headers,
        body: Buffer.from(answer.body, 'utf8'),
        url: request.url,
      };
    } catch (err) {
      throw stepError(stepId, operationKey, hostError ?? err);
    } finally {
      options.onCall?.({ status, requestBytes, responseBytes, durationMs: now() - started });
    }
  };
}

/** A failed call as the HTTP steps' one error type: retryable only when a later attempt can succeed. */
function stepError(stepId: string, operationKey: string, err: unknown): DataflowError {
  if (err instanceof DataflowError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const what = `step ${stepId}: operation ${operationKey}`;
  if (err instanceof SandboxError) {
    if (err.code === SandboxErrorCode.timeout)
      return new DataflowError(DataflowErrorCode.HTTP_UNAVAILABLE, `${what} timed out: ${message}`);
    return new DataflowError(DataflowErrorCode.BAD_REQUEST, `${what}: ${message}`);
  }
  // A host-side failure that is not the guard's (no credential for the scheme, an unusable URL).
  return new DataflowError(DataflowErrorCode.HTTP_REFUSED, `${what}: ${message}`);
}
