/**
 * Which form a security scheme of a registered API asks for, from the scheme as the gateway's
 * manifest holds it (OpenAPI's securitySchemes entry, normalised). Pure: unit-tested in
 * console/test/scheme-form.test.ts.
 */
export type SchemeForm =
  | { form: 'apiKey'; where: string }
  | { form: 'bearer' }
  | { form: 'basic' }
  | { form: 'client-credentials'; tokenUrl: string; scopes: string[] }
  | { form: 'authorization-code'; tokenUrl: string; scopes: string[]; openIdConnect: boolean }
  | { form: 'mtls' }
  | { form: 'unsupported'; what: string };

interface Flow {
  tokenUrl?: string;
  scopes?: Record<string, string>;
}
interface Scheme {
  type?: string;
  scheme?: string;
  in?: string;
  name?: string;
  flows?: { clientCredentials?: Flow; authorizationCode?: Flow; password?: Flow; implicit?: Flow };
}

export function schemeForm(raw: unknown): SchemeForm {
  const s = (raw ?? {}) as Scheme;
  const scheme = s.scheme?.toLowerCase();
  switch (s.type) {
    case 'apiKey':
      return { form: 'apiKey', where: `${s.in ?? 'header'} ${s.name ?? ''}`.trim() };
    case 'http':
      if (scheme === 'bearer') return { form: 'bearer' };
      if (scheme === 'basic') return { form: 'basic' };
      return { form: 'unsupported', what: `http ${s.scheme ?? ''}`.trim() };
    case 'oauth2':
      // A person's consent (authorization code) is what the flow needs when the spec offers it;
      // the platform then refreshes. A client of its own (client credentials) needs no person.
      if (s.flows?.authorizationCode)
        return {
          form: 'authorization-code',
          tokenUrl: s.flows.authorizationCode.tokenUrl ?? '',
          scopes: Object.keys(s.flows.authorizationCode.scopes ?? {}),
          openIdConnect: false,
        };
      if (s.flows?.clientCredentials)
        return {
          form: 'client-credentials',
          tokenUrl: s.flows.clientCredentials.tokenUrl ?? '',
          scopes: Object.keys(s.flows.clientCredentials.scopes ?? {}),
        };
      return { form: 'unsupported', what: 'oauth2 (implicit or password flow only)' };
    case 'openIdConnect':
      return { form: 'authorization-code', tokenUrl: '', scopes: ['openid'], openIdConnect: true };
    case 'mutualTLS':
      return { form: 'mtls' };
    default:
      return { form: 'unsupported', what: s.type ?? 'unknown' };
  }
}

/** An instant as people read it in the console: `2026-12-04 05:10 UTC`. */
export function utcMinute(iso: string): string {
  return `${new Date(iso).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** An OAuth client's token status in words, from the gateway's credential view. */
export function tokenStatusText(view: {
  oauth?: { status: string; expiresAt?: string; refreshable: boolean };
  failure?: { message: string };
}): string {
  const oauth = view.oauth;
  if (!oauth) return 'No OAuth client stored yet.';
  switch (oauth.status) {
    case 'active':
      return `Token stored${oauth.expiresAt ? `; expires ${utcMinute(oauth.expiresAt)}` : ''}${
        oauth.refreshable ? ', refreshed by the platform' : ''
      }.`;
    case 'expired':
      return 'The token expired and cannot be refreshed: connect again.';
    case 'refresh-failed':
      return `Refused: ${view.failure?.message ?? 'the provider refused the token request'}.`;
    default:
      return 'Not connected yet: press Connect and sign in at the provider.';
  }
}
