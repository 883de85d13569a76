import { X509Certificate } from 'node:crypto';
import fp from 'fastify-plugin';
import {
  AuthError,
  AuthErrorCode,
  isPlatformCredentialName,
  tenantOfState,
  tokenName,
  type Authenticator,
  type Credential,
  type CredentialStore,
  type CredentialSummary,
  type OwnerCredential,
} from '@vansales/sdk-factory/auth';
import { GatewayError, GatewayErrorCode } from '../errors';
import type { Logger } from '../logger';

/**
 * The cloud credential store through REST (issue 11 item 3): an owner creates, replaces, rotates
 * and deletes a tenant's named credentials, and authorizes OAuth 2.0 ones through their provider.
 * Secrets go in and never come out: answers carry the kind, the fields a user needs to recognise a
 * credential (user name, header name, client id, certificate subject), dates and the OAuth token's
 * status; never a secret, a token or a part of either.
 */
export interface CredentialServiceDeps {
  store: CredentialStore;
  /** The auth schemes over the same store; `schemesOf` reads the API's latest registered version. */
  authenticator: Authenticator;
  log: Logger;
  /** The callback address the provider redirects to; default: this request's own origin + /v1/oauth/callback. */
  redirectUrl?: string;
  now?: () => number;
}

export type OAuthStatus = 'not-authorized' | 'active' | 'expired' | 'refresh-failed';

export interface CredentialView {
  name: string;
  kind: OwnerCredential['kind'];
  version: number;
  createdAt: string;
  /** When a new value last replaced the first one (absent while it is the first). */
  rotatedAt?: string;
  lastUsedAt?: string;
  /** What a user needs to recognise it; never a secret. */
  fields: Record<string, string>;
  /** The last failure to use it (a refused OAuth refresh): "the owner is told". */
  failure?: { message: string; at: string };
  oauth?: { status: OAuthStatus; expiresAt?: string; refreshable: boolean; scope?: string; tokens: number };
}

/** The auth part's refusals, as the gateway's contract (messages name names and hosts, never secrets). */
function toGatewayError(err: unknown): unknown {
  if (!(err instanceof AuthError)) return err;
  switch (err.code) {
    case AuthErrorCode.badInput:
    case AuthErrorCode.insecureTransport:
    case AuthErrorCode.unsupportedScheme:
      return new GatewayError(GatewayErrorCode.badRequest, err.message, { authError: err.code });
    case AuthErrorCode.missingCredential:
      return new GatewayError(GatewayErrorCode.notFound, err.message, { authError: err.code });
    case AuthErrorCode.wrongKind:
      return new GatewayError(GatewayErrorCode.conflict, err.message, { authError: err.code });
    case AuthErrorCode.unknownAuthorization:
    case AuthErrorCode.reauthorizationRequired:
      return new GatewayError(GatewayErrorCode.workflowFailed, err.message, { authError: err.code });
    case AuthErrorCode.tokenEndpointUnavailable:
      return new GatewayError(GatewayErrorCode.unavailable, err.message, { authError: err.code });
    default:
      // A credential that does not open is an operator's matter (a removed master key): no details.
      return new GatewayError(GatewayErrorCode.internal, 'the credential store could not answer');
  }
}

async function mapped<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw toGatewayError(err);
  }
}

/** The public fields of a credential: never `value`, `token`, `password`, `clientSecret`, `privateKey`, `passphrase`. */
function publicFields(c: Credential): Record<string, string> {
  switch (c.kind) {
    case 'basic':
      return { username: c.username };
    case 'header':
      return { headerName: c.name };
    case 'oauth2-client': {
      const out: Record<string, string> = { clientId: c.clientId, tokenEndpointAuth: c.tokenEndpointAuth };
      if (c.tokenUrl) out.tokenUrl = c.tokenUrl;
      if (c.authorizationUrl) out.authorizationUrl = c.authorizationUrl;
      return out;
    }
    case 'mtls': {
      try {
        const cert = new X509Certificate(c.certificate);
        return {
          subject: cert.subject.replace(/\n/g, ', '),
          issuer: cert.issuer.replace(/\n/g, ', '),
          validTo: new Date(cert.validTo).toISOString(),
          fingerprint256: cert.fingerprint256,
        };
      } catch {
        return {};
      }
    }
    default:
      return {};
  }
}

export function createCredentialService(deps: CredentialServiceDeps) {
  const { store, authenticator, log } = deps;
  const now = deps.now ?? Date.now;
  // A listing still answers when one credential does not open (a removed master key): that one shows no fields.
  const opened = (tenantId: string, name: string) => store.get(tenantId, name).catch(() => undefined);

  function ownerName(name: string): string {
    if (isPlatformCredentialName(name))
      throw new GatewayError(
        GatewayErrorCode.badRequest,
        `${name} is a name the platform keeps for its own tokens and authorizations: choose another`,
      );
    return name;
  }

  async function oauthStatus(tenantId: string, name: string, summary: CredentialSummary, all: CredentialSummary[]) {
    const tokens = all.filter((s) => s.name === tokenName(name) || s.name.startsWith(`${tokenName(name)}.`));
    const newest = tokens.sort((a, b) => b.updatedAt.getTime() - a.updatedAt.getTime())[0];
    const token = newest ? await opened(tenantId, newest.name) : undefined;
    const failedAfterToken = summary.failure && (!newest || summary.failure.at.getTime() >= newest.updatedAt.getTime());
    if (token?.kind !== 'oauth2-token')
      return {
        status: (failedAfterToken ? 'refresh-failed' : 'not-authorized') as OAuthStatus,
        refreshable: false,
        tokens: 0,
      };
    const expired = token.expiresAt !== undefined && token.expiresAt <= now();
    const status: OAuthStatus =
      failedAfterToken || newest?.failure ? 'refresh-failed' : expired && !token.refreshToken ? 'expired' : 'active';
    return {
      status,
      expiresAt: token.expiresAt !== undefined ? new Date(token.expiresAt).toISOString() : undefined,
      refreshable: !!token.refreshToken,
      scope: token.scope,
      tokens: tokens.length,
    };
  }

  async function view(tenantId: string, summary: CredentialSummary, all: CredentialSummary[]): Promise<CredentialView> {
    const c = await opened(tenantId, summary.name);
    const out: CredentialView = {
      name: summary.name,
      kind: summary.kind as OwnerCredential['kind'],
      version: summary.version,
      createdAt: summary.createdAt.toISOString(),
      rotatedAt: summary.version > 1 ? summary.updatedAt.toISOString() : undefined,
      lastUsedAt: summary.lastUsedAt?.toISOString(),
      fields: c ? publicFields(c) : {},
      failure: summary.failure && { message: summary.failure.message, at: summary.failure.at.toISOString() },
    };
    if (summary.kind === 'oauth2-client') out.oauth = await oauthStatus(tenantId, summary.name, summary, all);
    return out;
  }

  async function getView(tenantId: string, name: string): Promise<CredentialView> {
    ownerName(name);
    const all = await store.list(tenantId, name);
    const summary = all.find((s) => s.name === name);
    if (!summary) throw new GatewayError(GatewayErrorCode.notFound, `tenant ${tenantId} has no credential ${name}`);
    return view(tenantId, summary, all);
  }

  return {
    /** Creates or replaces a credential (a new data key each time; cached tokens of an OAuth client stay). */
    put: (tenantId: string, name: string, credential: OwnerCredential, actor: string) =>
      mapped(async () => {
        ownerName(name);
        const existed = (await store.list(tenantId, name)).some((s) => s.name === name);
        await store.put(tenantId, name, credential);
        log.info(
          { tenantId, credential: name, kind: credential.kind, actor },
          existed ? 'credential replaced' : 'credential created',
        );
        return { created: !existed, credential: await getView(tenantId, name) };
      }),

    list: (tenantId: string) =>
      mapped(async () => {
        const all = await store.list(tenantId);
        const owned = all.filter((s) => !isPlatformCredentialName(s.name));
        return Promise.all(
          owned.map((s) =>
            view(
              tenantId,
              s,
              all.filter((t) => t.name.startsWith(s.name)),
            ),
          ),
        );
      }),

    get: (tenantId: string, name: string) => mapped(() => getView(tenantId, name)),

    /** A new secret for an existing credential of the same kind. */
    rotate: (tenantId: string, name: string, credential: OwnerCredential, actor: string) =>
      mapped(async () => {
        ownerName(name);
        const current = (await store.list(tenantId, name)).find((s) => s.name === name);
        if (!current) throw new GatewayError(GatewayErrorCode.notFound, `tenant ${tenantId} has no credential ${name}`);
        if (current.kind !== credential.kind)
          throw new GatewayError(
            GatewayErrorCode.conflict,
            `credential ${name} is ${current.kind}; a rotation keeps the kind (replace it with PUT to change it)`,
          );
        await store.put(tenantId, name, credential);
        log.info({ tenantId, credential: name, kind: credential.kind, actor }, 'credential rotated');
        return getView(tenantId, name);
      }),

    /** Deletes a credential and the tokens the platform cached for it. */
    delete: (tenantId: string, name: string, actor: string) =>
      mapped(async () => {
        ownerName(name);
        if (!(await store.delete(tenantId, name)))
          throw new GatewayError(GatewayErrorCode.notFound, `tenant ${tenantId} has no credential ${name}`);
        for (const t of await store.list(tenantId, tokenName(name))) await store.delete(tenantId, t.name);
        log.info({ tenantId, credential: name, actor }, 'credential deleted');
      }),

    /** Starts an OAuth 2.0 authorization code flow (PKCE): the provider's address to send the owner to. */
    startAuthorization: (
      tenantId: string,
      input: { apiId: string; scheme: string; scopes?: string[]; extraParameters?: Record<string, string> },
      origin: string,
      actor: string,
    ) =>
      mapped(async () => {
        const started = await authenticator.startAuthorization({
          tenantId,
          apiRef: input.apiId,
          scheme: input.scheme,
          scopes: input.scopes,
          extraParameters: input.extraParameters,
          redirectUri: deps.redirectUrl ?? `${origin}/v1/oauth/callback`,
          startedBy: actor,
        });
        log.info({ tenantId, credential: started.credential, actor }, 'OAuth authorization started');
        return { ...started, expiresAt: started.expiresAt.toISOString() };
      }),

    /**
     * The provider's redirect: the state names the tenant and the pending flow (one use, expiring);
     * the code is exchanged with the PKCE verifier and the tokens stored. An error answer is recorded
     * on the credential for its owner.
     */
    callback: (query: { state: string; code?: string; error?: string }) =>
      mapped(async () => {
        const tenantId = tenantOfState(query.state);
        const unknown = () =>
          new GatewayError(
            GatewayErrorCode.badRequest,
            'no authorization is waiting for this state (expired, already used, or never started): start it again',
          );
        if (!tenantId) throw unknown();
        if (!query.code) {
          const failed = await authenticator.failAuthorization({
            tenantId,
            state: query.state,
            error: query.error ?? '',
          });
          if (!failed) throw unknown();
          log.warn({ tenantId, credential: failed.credential }, 'OAuth authorization refused by the provider');
          throw new GatewayError(
            GatewayErrorCode.badRequest,
            `the provider refused the authorization of ${failed.credential}; start it again`,
          );
        }
        try {
          const done = await authenticator.completeAuthorization({ tenantId, state: query.state, code: query.code });
          log.info({ tenantId, credential: done.credential, actor: done.startedBy }, 'OAuth authorization completed');
          return {
            tenantId,
            credential: done.credential,
            expiresAt: done.expiresAt?.toISOString(),
            scope: done.scope,
          };
        } catch (err) {
          if (err instanceof AuthError && err.code === AuthErrorCode.unknownAuthorization) throw unknown();
          throw err;
        }
      }),
  };
}
export type CredentialService = ReturnType<typeof createCredentialService>;

declare module 'fastify' {
  interface FastifyInstance {
    credentials: CredentialService;
  }
}

export const credentialServicePlugin = fp<CredentialServiceDeps>(
  async (app, deps) => void app.decorate('credentials', createCredentialService(deps)),
  { name: 'credential-service', fastify: '5.x' },
);
