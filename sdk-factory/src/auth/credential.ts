import { z } from 'zod';

/**
 * Credential names: `<apiRef>.<scheme>` for what an API's security scheme uses (see
 * credentialName), or any name a definition's HTTP step refers to. Names are not secret; they show
 * in listings, errors and the audit.
 */
export const CredentialName = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.:@/-]{0,199}$/,
    'letters, digits and _ . : @ / - (at most 200, not starting with a sign)',
  );

// Values go into HTTP headers: no line breaks, no NUL.
const HeaderSafe = z
  .string()
  .min(1)
  .max(8192)
  .refine((v) => !/[\r\n\0]/.test(v), 'no line breaks or NUL characters');

/** A secret field: written, never read back (the REST document marks it write-only). */
const Secret = HeaderSafe.meta({ writeOnly: true });

const ApiKeyCredential = z.object({ kind: z.literal('apiKey'), value: Secret });
const BearerCredential = z.object({ kind: z.literal('bearer'), token: Secret });
const BasicCredential = z.object({
  kind: z.literal('basic'),
  username: z
    .string()
    .max(512)
    .regex(/^[^:\r\n\0]*$/, 'no colon, line break or NUL'),
  password: Secret,
});
/** A fixed header (what VSC_CLOUD_CREDENTIALS_FILE's `header` entries hold). */
const HeaderCredential = z.object({
  kind: z.literal('header'),
  name: z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/, 'a header name'),
  value: Secret,
});
/** An OAuth 2.0 client registered with the API's authorization server. */
const OAuthClientCredential = z.object({
  kind: z.literal('oauth2-client'),
  clientId: z.string().min(1).max(512),
  clientSecret: z.string().min(1).max(4096).meta({ writeOnly: true }).optional(),
  /** How the client authenticates at the token endpoint (RFC 6749 2.3.1); basic by default. */
  tokenEndpointAuth: z.enum(['client_secret_basic', 'client_secret_post', 'none']).default('client_secret_basic'),
  /** Overrides the manifest's token URL (a tenant's own authorization server). */
  tokenUrl: z.url().optional(),
  authorizationUrl: z.url().optional(),
});
const Pem = (label: RegExp, what: string) =>
  z
    .string()
    .max(64 * 1024)
    .refine((v) => label.test(v), `a PEM ${what}`);
/** A client certificate and its key for a `mutualTLS` scheme: the host's HTTPS transport presents them. */
const MutualTlsCredential = z.object({
  kind: z.literal('mtls'),
  certificate: Pem(/-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/, 'certificate (chain)'),
  privateKey: Pem(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]+-----END [A-Z ]*PRIVATE KEY-----/, 'private key').meta({
    writeOnly: true,
  }),
  passphrase: z.string().min(1).max(1024).meta({ writeOnly: true }).optional(),
  /** CA certificates the server's certificate must chain to, when not a public CA (PEM). */
  ca: Pem(/-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/, 'CA certificate').optional(),
});

/** What an owner may store (REST): everything but what the platform makes itself (tokens, pending flows). */
export const OwnerCredential = z.discriminatedUnion('kind', [
  ApiKeyCredential,
  BearerCredential,
  BasicCredential,
  HeaderCredential,
  OAuthClientCredential,
  MutualTlsCredential,
]);
export type OwnerCredential = z.infer<typeof OwnerCredential>;

/** What the store keeps under a name, by kind. Parsed after every open, so a wrong shape fails loudly. */
export const Credential = z.discriminatedUnion('kind', [
  ApiKeyCredential,
  BearerCredential,
  BasicCredential,
  HeaderCredential,
  OAuthClientCredential,
  MutualTlsCredential,
  /** Tokens the platform obtained (cached client-credentials tokens, or an authorization's tokens). */
  z.object({
    kind: z.literal('oauth2-token'),
    accessToken: HeaderSafe,
    tokenType: z.string().default('Bearer'),
    /** Epoch milliseconds; absent when the server did not say (then it is used until refused). */
    expiresAt: z.number().int().optional(),
    refreshToken: z.string().min(1).optional(),
    scope: z.string().optional(),
  }),
  /** An authorization code flow under way: what the callback needs (PKCE verifier, where to store). */
  z.object({
    kind: z.literal('oauth2-pending'),
    credential: z.string(),
    tokenUrl: z.url(),
    redirectUri: z.url(),
    codeVerifier: z.string().min(43).max(128),
    /** Who started it (the callback comes from a browser without the platform's token; the audit names them). */
    startedBy: z.string().max(200).optional(),
  }),
]);
export type Credential = z.infer<typeof Credential>;
export type CredentialInput = z.input<typeof Credential>;
export type CredentialKind = Credential['kind'];
