import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stateDir } from '../paths';
import { portsFor } from '../ports-config';

export interface AdminTarget {
  gatewayUrl: string;
  adminToken: string;
}

/** The gateway `vsc up` runs, unless VSC_GATEWAY_URL and VSC_ADMIN_TOKEN name another one. */
export function defaultAdminTarget(env: NodeJS.ProcessEnv = process.env): AdminTarget {
  const gatewayUrl = env.VSC_GATEWAY_URL ?? `http://127.0.0.1:${portsFor('dev', env).gateway}`;
  let adminToken = env.VSC_ADMIN_TOKEN;
  const secrets = join(stateDir('dev'), 'secrets.json');
  if (!adminToken && existsSync(secrets))
    adminToken = (JSON.parse(readFileSync(secrets, 'utf8')) as { adminToken?: string }).adminToken;
  if (!adminToken) throw new Error(`no admin token: set VSC_ADMIN_TOKEN, or run ./vsc up first (it writes ${secrets})`);
  return { gatewayUrl: gatewayUrl.replace(/\/$/, ''), adminToken };
}

/** One call of the gateway's REST API with the admin token; an unreachable gateway is named. */
export async function gatewayRequest<T>(
  target: AdminTarget,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${target.gatewayUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${target.adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  }).catch((e: Error) => {
    const cause = e.cause as { code?: string; message?: string; errors?: { code?: string }[] } | undefined;
    throw new Error(
      `cannot reach the gateway at ${target.gatewayUrl}: ${cause?.code ?? cause?.errors?.[0]?.code ?? cause?.message ?? e.message}`,
    );
  });
  return { status: res.status, body: (await res.json().catch(() => ({}))) as T };
}

const USAGE = `usage:
  ./vsc tenant create <tenant-id> <name>
  ./vsc connector create <tenant-id> <name>      prints the new connector's API key (shown once)
  ./vsc connector list <tenant-id>
  ./vsc key issue <tenant-id> <connector-id>      a new key for a new machine (shown once)
  ./vsc key revoke <tenant-id> <connector-id>     revokes every key; a connected agent is dropped at once
  ./vsc key rebind <tenant-id> <connector-id> [<public-key>]
                                                  moves the key to another machine (audited): to the public
                                                  key its init printed, or re-opens enrolment for a while
  ./vsc audit verify <tenant-id> <connector-id>   checks the gateway's audit chain of a connector
`;

/** Control-plane commands over the gateway's REST API; output goes to `out`, one JSON document. */
export async function admin(
  argv: string[],
  target: AdminTarget,
  out: (s: string) => void,
  err: (s: string) => void,
): Promise<number> {
  const [noun, verb, a, b, c] = argv;
  const call = async (method: 'GET' | 'POST', path: string, body?: unknown) => {
    const res = await gatewayRequest<{ error?: { message?: string } }>(target, method, path, body);
    if (res.status >= 400) {
      err(`${res.body.error?.message ?? `HTTP ${res.status}`}\n`);
      return 1;
    }
    out(`${JSON.stringify(res.body, null, 2)}\n`);
    return 0;
  };
  const route = `${noun ?? ''} ${verb ?? ''}`;
  try {
    switch (route) {
      case 'tenant create':
        if (!a || !b) break;
        return await call('POST', '/v1/tenants', { id: a, name: b });
      case 'connector create':
        if (!a || !b) break;
        return await call('POST', `/v1/tenants/${encodeURIComponent(a)}/connectors`, { name: b });
      case 'connector list':
        if (!a) break;
        return await call('GET', `/v1/tenants/${encodeURIComponent(a)}/connectors`);
      case 'key issue':
        if (!a || !b) break;
        return await call('POST', `/v1/tenants/${encodeURIComponent(a)}/connectors/${encodeURIComponent(b)}/keys`);
      case 'key revoke':
        if (!a || !b) break;
        return await call('POST', `/v1/tenants/${encodeURIComponent(a)}/connectors/${encodeURIComponent(b)}/revoke`);
      case 'key rebind':
        if (!a || !b) break;
        return await call(
          'POST',
          `/v1/tenants/${encodeURIComponent(a)}/connectors/${encodeURIComponent(b)}/rebind`,
          c ? { publicKey: c } : {},
        );
      case 'audit verify':
        if (!a || !b) break;
        return await call(
          'GET',
          `/v1/tenants/${encodeURIComponent(a)}/connectors/${encodeURIComponent(b)}/audit/verify`,
        );
    }
  } catch (e) {
    err(`${(e as Error).message}\n`);
    return 1;
  }
  err(USAGE);
  return 2;
}
