// The operation manifest: what the SDK factory makes of one API specification, and the one contract
// its parts share. Ingestion (OpenAPI 3.0/3.1, Swagger 2.0) writes it; the SDK generator, the sandbox
// runtime, the artifact registry, the breaking-change check and the designer's step palette read it.
// It is plain JSON (stored in the artifact registry and sent to the console), parsed with zod at every
// boundary that reads one it did not just make.
import { z } from 'zod';

export const MANIFEST_VERSION = 1;

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;
export const HttpMethod = z.enum(HTTP_METHODS);
export type HttpMethod = z.infer<typeof HttpMethod>;

/**
 * A JSON Schema (2020-12 vocabulary; OpenAPI 3.0's `nullable` and Swagger's forms are normalized on
 * ingestion). References point inside the manifest only: `{ "$ref": "#/schemas/<name>" }`, so a
 * validator can take the manifest as its root and circular schemas stay finite.
 */
export const JsonSchema: z.ZodType<JsonSchemaValue> = z.lazy(() =>
  z.union([z.boolean(), z.record(z.string(), z.unknown())]),
) as z.ZodType<JsonSchemaValue>;
export type JsonSchemaValue = boolean | { [keyword: string]: unknown };

export const ParameterLocation = z.enum(['path', 'query', 'header', 'cookie']);
export type ParameterLocation = z.infer<typeof ParameterLocation>;

export const OperationParameter = z.object({
  name: z.string().min(1),
  in: ParameterLocation,
  required: z.boolean(),
  schema: JsonSchema,
  description: z.string().optional(),
  deprecated: z.boolean().optional(),
  /** OpenAPI serialization (`form`, `simple`, `deepObject`, …) and explode, as declared or defaulted. */
  style: z.string().optional(),
  explode: z.boolean().optional(),
  /**
   * Never audited, logged or sent to a model: declared `format: password`, `x-sensitive: true`, or a
   * name that reads as a secret (token, password, key, secret).
   */
  sensitive: z.boolean(),
});
export type OperationParameter = z.infer<typeof OperationParameter>;

export const MediaTypeSchema = z.object({ contentType: z.string().min(1), schema: JsonSchema });
export type MediaTypeSchema = z.infer<typeof MediaTypeSchema>;

export const RequestBody = z.object({
  required: z.boolean(),
  description: z.string().optional(),
  content: z.array(MediaTypeSchema),
});
export type RequestBody = z.infer<typeof RequestBody>;

export const OperationResponse = z.object({
  /** `200`, `2XX` or `default`, as declared. */
  status: z.string().regex(/^([1-5]\d\d|[1-5]XX|default)$/),
  description: z.string().optional(),
  content: z.array(MediaTypeSchema),
  headers: z.record(z.string(), JsonSchema).optional(),
});
export type OperationResponse = z.infer<typeof OperationResponse>;

const Scopes = z.record(z.string(), z.string());
export const OAuthFlows = z.object({
  clientCredentials: z.object({ tokenUrl: z.string(), refreshUrl: z.string().optional(), scopes: Scopes }).optional(),
  authorizationCode: z
    .object({
      authorizationUrl: z.string(),
      tokenUrl: z.string(),
      refreshUrl: z.string().optional(),
      scopes: Scopes,
    })
    .optional(),
  password: z.object({ tokenUrl: z.string(), refreshUrl: z.string().optional(), scopes: Scopes }).optional(),
  implicit: z.object({ authorizationUrl: z.string(), refreshUrl: z.string().optional(), scopes: Scopes }).optional(),
});
export const SecurityScheme = z.discriminatedUnion('type', [
  z.object({ type: z.literal('apiKey'), in: z.enum(['header', 'query', 'cookie']), name: z.string().min(1) }),
  z.object({ type: z.literal('http'), scheme: z.string().min(1), bearerFormat: z.string().optional() }),
  z.object({ type: z.literal('oauth2'), flows: OAuthFlows }),
  z.object({ type: z.literal('openIdConnect'), openIdConnectUrl: z.string() }),
  z.object({ type: z.literal('mutualTLS') }),
]);
export type SecurityScheme = z.infer<typeof SecurityScheme>;

/** Alternatives (any one suffices); each maps scheme names, all required together, to their scopes. */
export const SecurityRequirements = z.array(z.record(z.string(), z.array(z.string())));
export type SecurityRequirements = z.infer<typeof SecurityRequirements>;

/** Pagination the factory recognised (declared by `x-pagination`-style extensions or inferred from parameters). */
export const Pagination = z.discriminatedUnion('kind', [
  /** The next request sends `param` = the value at `next` (a JSON pointer into the response body). */
  z.object({ kind: z.literal('cursor'), param: z.string(), next: z.string(), items: z.string().optional() }),
  z.object({
    kind: z.literal('offset'),
    offsetParam: z.string(),
    limitParam: z.string().optional(),
    items: z.string().optional(),
  }),
  z.object({
    kind: z.literal('page'),
    pageParam: z.string(),
    sizeParam: z.string().optional(),
    items: z.string().optional(),
  }),
  /** RFC 8288 `Link: <…>; rel="next"` (GitHub's style). */
  z.object({ kind: z.literal('link-header'), items: z.string().optional() }),
]);
export type Pagination = z.infer<typeof Pagination>;

export const Operation = z.object({
  /**
   * Stable across versions of one API: the `operationId` when the spec declares one, else
   * `METHOD /path` (upper-case method, the path template as written). Unique within a manifest.
   */
  key: z.string().min(1),
  operationId: z.string().optional(),
  method: HttpMethod,
  /** The path template as declared (`/pets/{petId}`), relative to a server URL. */
  path: z.string().startsWith('/'),
  summary: z.string().optional(),
  description: z.string().optional(),
  tags: z.array(z.string()),
  deprecated: z.boolean(),
  /** Path-level and operation-level parameters merged (operation wins on name + location). */
  parameters: z.array(OperationParameter),
  requestBody: RequestBody.optional(),
  responses: z.array(OperationResponse),
  /** The effective requirements (operation-level, else the document's); `[]` means no authentication. */
  security: SecurityRequirements,
  pagination: Pagination.optional(),
  /** Operation-level servers, when declared (override the document's). */
  servers: z.array(z.object({ url: z.string(), description: z.string().optional() })).optional(),
});
export type Operation = z.infer<typeof Operation>;

export const OperationManifest = z.object({
  manifestVersion: z.literal(MANIFEST_VERSION),
  /** The source document's version as declared: `2.0` (converted on ingestion), `3.0.x`, `3.1.x`. */
  sourceFormat: z.string(),
  title: z.string(),
  /** `info.version` of the API. */
  apiVersion: z.string(),
  description: z.string().optional(),
  servers: z.array(z.object({ url: z.string(), description: z.string().optional() })),
  securitySchemes: z.record(z.string(), SecurityScheme),
  /** Named schemas that operations reference as `#/schemas/<name>`. */
  schemas: z.record(z.string(), JsonSchema),
  operations: z.array(Operation),
  /** sha256 (hex) of the normalized OpenAPI 3.x document this manifest was made from. */
  specHash: z.string().regex(/^[0-9a-f]{64}$/),
});
export type OperationManifest = z.infer<typeof OperationManifest>;

/** The stable key of an operation that declares no `operationId`. */
export function operationKey(method: HttpMethod, path: string, operationId?: string): string {
  return operationId ?? `${method.toUpperCase()} ${path}`;
}
