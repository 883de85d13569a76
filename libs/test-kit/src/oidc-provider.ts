import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface OidcClient {
  client_id: string;
  client_secret?: string;
  grant_types: string[];
  response_types: string[];
  redirect_uris: string[];
  scope?: string;
}

export interface RunningProvider {
  issuer: string;
  endpoints: { authorization: string; token: string; introspection: string; revocation: string };
  stop(): Promise<void>;
}

/** A confidential web client of the authorization code flow (with refresh tokens unless told otherwise). */
export function webClient(
  clientId: string,
  secret: string,
  redirectUri: string,
  options: { refresh?: boolean } = {},
): OidcClient {
  return {
    client_id: clientId,
    client_secret: secret,
    grant_types: options.refresh === false ? ['authorization_code'] : ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [redirectUri],
  };
}

/** A machine client of the client credentials flow, allowed `scope` (space-separated). */
export function serviceClient(clientId: string, secret: string, scope: string): OidcClient {
  return {
    client_id: clientId,
    client_secret: secret,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope,
  };
}

/** OpenAPI's security scheme for the provider's authorization code flow, with these scopes (no descriptions). */
export function authorizationCodeScheme(provider: RunningProvider, scopes: string[]) {
  return {
    type: 'oauth2' as const,
    flows: {
      authorizationCode: {
        authorizationUrl: provider.endpoints.authorization,
        tokenUrl: provider.endpoints.token,
        scopes: Object.fromEntries(scopes.map((s) => [s, ''])),
      },
    },
  };
}

/** Starts oidc-provider (oidc-server.mjs beside this file) on a random loopback port and reads its discovery document. */
export async function startOidcProvider(clients: OidcClient[]): Promise<RunningProvider> {
  const child: ChildProcess = spawn(process.execPath, [join(__dirname, 'oidc-server.mjs'), JSON.stringify(clients)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const issuer = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => resolve((JSON.parse(line) as { issuer: string }).issuer));
    child.once('exit', (code) => reject(new Error(`oidc-provider exited ${code}: ${stderr}`)));
  });
  const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as Record<
    string,
    string
  >;
  return {
    issuer,
    endpoints: {
      authorization: discovery.authorization_endpoint!,
      token: discovery.token_endpoint!,
      introspection: discovery.introspection_endpoint!,
      revocation: discovery.revocation_endpoint!,
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/**
 * Drives an authorization request through the provider's login and consent pages with real HTTP
 * (manual redirects, a cookie jar, the forms' own actions) until it redirects to `redirectUri`.
 */
export async function authorizeInBrowser(authorizationUrl: string, redirectUri: string, login: string): Promise<URL> {
  const jar = new Map<string, string>();
  let url = authorizationUrl;
  let body: URLSearchParams | undefined;
  for (let hop = 0; hop < 20; hop++) {
    const headers: Record<string, string> = { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') };
    if (body) headers['content-type'] = 'application/x-www-form-urlencoded';
    const init: RequestInit = { method: body ? 'POST' : 'GET', body, headers, redirect: 'manual' };
    // A keep-alive socket the provider closed while this process was busy fails before any answer: once more.
    const res = await fetch(url, init).catch(() => fetch(url, init));
    for (const cookie of res.headers.getSetCookie()) {
      const pair = cookie.split(';')[0]!;
      const eq = pair.indexOf('=');
      if (/expires=Thu, 01 Jan 1970/i.test(cookie)) jar.delete(pair.slice(0, eq));
      else jar.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    body = undefined;
    if (res.status >= 300 && res.status < 400) {
      await res.arrayBuffer();
      const next = new URL(res.headers.get('location')!, url);
      if (next.toString().startsWith(redirectUri)) return next;
      url = next.toString();
      continue;
    }
    const html = await res.text();
    if (res.status !== 200) throw new Error(`authorization page answered ${res.status}: ${html.slice(0, 300)}`);
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    const prompt = /name="prompt" value="(\w+)"/.exec(html)?.[1];
    if (!action || !prompt) throw new Error(`no interaction form on ${url}`);
    body = new URLSearchParams(prompt === 'login' ? { prompt, login, password: 'any' } : { prompt });
    url = new URL(action, url).toString();
  }
  throw new Error('the authorization did not reach the redirect URI in 20 hops');
}
