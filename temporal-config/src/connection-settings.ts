import { readFileSync } from 'node:fs';
import { loadClientConfigProfile, type ClientConfigProfile } from '@temporalio/envconfig';
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow';
import { z } from 'zod';

/**
 * How every process reaches Temporal, in the SDK's environment-configuration names
 * (https://docs.temporal.io/references/client-environment-configuration), so an operator who knows
 * Temporal's CLI or another SDK sets the same variables here. A `temporal.toml` profile is read when
 * TEMPORAL_CONFIG_FILE or TEMPORAL_PROFILE names one; environment variables win over the file.
 * Unlike the CLI, a server process never reads the user's default ~/.config/temporalio/temporal.toml
 * on its own: a developer's Temporal Cloud profile must not silently redirect a local gateway.
 */
export const TemporalConnectionEnv = z.object({
  /** host:port of the Temporal frontend. Default: the local dev server. */
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^[^\s:/]+:\d+$/, 'expected host:port')
    .default('127.0.0.1:7233'),
  /** Namespace of all Vansales workflows. */
  TEMPORAL_NAMESPACE: z.string().min(1).max(255).default('vansales'),
  /** A temporal.toml to read a profile from (environment variables still win). */
  TEMPORAL_CONFIG_FILE: z.string().min(1).optional(),
  /** Profile of that file. Default: `default`. */
  TEMPORAL_PROFILE: z.string().min(1).optional(),
  /** Temporal Cloud API key, sent as `authorization: Bearer …`. Turns TLS on unless TEMPORAL_TLS=false. */
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  /** `true` or `false`: TLS to the frontend. Default: on when any TLS setting or an API key is given. */
  TEMPORAL_TLS: z.enum(['true', 'false']).optional(),
  /** PEM CA that signed the frontend's certificate (default: the system's CAs). */
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: z.string().min(1).optional(),
  TEMPORAL_TLS_SERVER_CA_CERT_DATA: z.string().min(1).optional(),
  /** Name expected in the frontend's certificate, when it differs from the host of TEMPORAL_ADDRESS. */
  TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
  /** PEM client certificate (chain) for mTLS, with TEMPORAL_TLS_CLIENT_KEY_*. */
  TEMPORAL_TLS_CLIENT_CERT_PATH: z.string().min(1).optional(),
  TEMPORAL_TLS_CLIENT_CERT_DATA: z.string().min(1).optional(),
  /** PEM private key of the client certificate. */
  TEMPORAL_TLS_CLIENT_KEY_PATH: z.string().min(1).optional(),
  TEMPORAL_TLS_CLIENT_KEY_DATA: z.string().min(1).optional(),
  /** Not supported by the TypeScript SDK: refused rather than ignored. */
  TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: z
    .never({ error: 'not supported by the TypeScript SDK: set TEMPORAL_TLS_SERVER_NAME instead' })
    .optional(),
});
export type TemporalConnectionEnv = z.infer<typeof TemporalConnectionEnv>;

/** A Temporal connection setting that cannot work; the message names the variable. */
export class TemporalConnectionError extends Error {
  override name = 'TemporalConnectionError';
}

type Issue = { path: string[]; message: string };

/** Cross-field rules of the connection settings, as zod issues (for a config's superRefine). */
export function temporalConnectionIssues(env: Partial<TemporalConnectionEnv>): Issue[] {
  const issues: Issue[] = [];
  for (const what of ['SERVER_CA_CERT', 'CLIENT_CERT', 'CLIENT_KEY'] as const) {
    if (env[`TEMPORAL_TLS_${what}_PATH`] && env[`TEMPORAL_TLS_${what}_DATA`])
      issues.push({
        path: [`TEMPORAL_TLS_${what}_PATH`],
        message: `set TEMPORAL_TLS_${what}_PATH or TEMPORAL_TLS_${what}_DATA, not both`,
      });
  }
  const cert = !!(env.TEMPORAL_TLS_CLIENT_CERT_PATH || env.TEMPORAL_TLS_CLIENT_CERT_DATA);
  const key = !!(env.TEMPORAL_TLS_CLIENT_KEY_PATH || env.TEMPORAL_TLS_CLIENT_KEY_DATA);
  if (cert !== key)
    issues.push({
      path: [cert ? 'TEMPORAL_TLS_CLIENT_KEY_PATH' : 'TEMPORAL_TLS_CLIENT_CERT_PATH'],
      message:
        'mTLS needs both a client certificate and its key (TEMPORAL_TLS_CLIENT_CERT_* and TEMPORAL_TLS_CLIENT_KEY_*)',
    });
  const tlsSettings = [
    'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
    'TEMPORAL_TLS_SERVER_CA_CERT_DATA',
    'TEMPORAL_TLS_SERVER_NAME',
    'TEMPORAL_TLS_CLIENT_CERT_PATH',
    'TEMPORAL_TLS_CLIENT_CERT_DATA',
    'TEMPORAL_TLS_CLIENT_KEY_PATH',
    'TEMPORAL_TLS_CLIENT_KEY_DATA',
  ] as const;
  if (env.TEMPORAL_TLS === 'false') {
    const conflicting = tlsSettings.filter((k) => env[k]);
    if (conflicting.length)
      issues.push({ path: ['TEMPORAL_TLS'], message: `TEMPORAL_TLS=false contradicts ${conflicting.join(', ')}` });
    // An API key in clear text is a credential handed to anyone on the path: only on loopback.
    if (env.TEMPORAL_API_KEY && !isLoopbackAddress(env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233'))
      issues.push({
        path: ['TEMPORAL_TLS'],
        message: 'TEMPORAL_TLS=false with TEMPORAL_API_KEY would send the key in clear text; only allowed on loopback',
      });
  }
  return issues;
}

/** zod superRefine for any config that extends TemporalConnectionEnv's shape. */
export function refineTemporalConnection(env: Partial<TemporalConnectionEnv>, ctx: z.RefinementCtx): void {
  for (const issue of temporalConnectionIssues(env)) ctx.addIssue({ code: 'custom', ...issue });
}

function isLoopbackAddress(address: string): boolean {
  const host = address.replace(/:\d+$/, '');
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\./.test(host);
}

/**
 * The environment with the values of a temporal.toml profile filled in where the environment has
 * none (call before parsing the config). Without TEMPORAL_CONFIG_FILE and TEMPORAL_PROFILE it is
 * the environment unchanged.
 */
export function withTemporalProfile(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (!env.TEMPORAL_CONFIG_FILE && !env.TEMPORAL_PROFILE) return env;
  let profile: ClientConfigProfile;
  try {
    profile = loadClientConfigProfile({
      profile: env.TEMPORAL_PROFILE,
      configSource: env.TEMPORAL_CONFIG_FILE ? { path: env.TEMPORAL_CONFIG_FILE } : undefined,
      // Variables are merged below, from the env given (tests pass their own, not process.env).
      disableEnv: true,
      configFileStrict: true,
    });
  } catch (err) {
    throw new TemporalConnectionError(
      `TEMPORAL_CONFIG_FILE/TEMPORAL_PROFILE: cannot load profile ${JSON.stringify(env.TEMPORAL_PROFILE ?? 'default')}` +
        ` from ${env.TEMPORAL_CONFIG_FILE ?? 'the default temporal.toml'}: ${(err as Error).message}`,
    );
  }
  const source = (s: { path: string } | { data: string | Uint8Array } | undefined, name: string) =>
    !s ? {} : 'path' in s ? { [`${name}_PATH`]: s.path } : { [`${name}_DATA`]: Buffer.from(s.data).toString() };
  const fromFile: Record<string, string | undefined> = {
    TEMPORAL_ADDRESS: profile.address,
    TEMPORAL_NAMESPACE: profile.namespace,
    TEMPORAL_API_KEY: profile.apiKey,
    TEMPORAL_TLS: profile.tls?.disabled === true ? 'false' : profile.tls ? 'true' : undefined,
    TEMPORAL_TLS_SERVER_NAME: profile.tls?.serverName,
    ...source(profile.tls?.serverCACert, 'TEMPORAL_TLS_SERVER_CA_CERT'),
    ...source(profile.tls?.clientCert, 'TEMPORAL_TLS_CLIENT_CERT'),
    ...source(profile.tls?.clientKey, 'TEMPORAL_TLS_CLIENT_KEY'),
  };
  const merged: NodeJS.ProcessEnv = { ...env };
  for (const [k, v] of Object.entries(fromFile)) if (v !== undefined && merged[k] === undefined) merged[k] = v;
  return merged;
}

/** What Connection.connect and NativeConnection.connect both take to reach Temporal. */
export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig | false;
  apiKey?: string;
}

/**
 * Connection options from parsed settings, reading certificate files now so that a missing or
 * unreadable one stops the process naming its variable (not a TLS handshake error later).
 */
export function temporalConnectionOptions(env: TemporalConnectionEnv): TemporalConnectionOptions {
  const issues = temporalConnectionIssues(env);
  if (issues.length) throw new TemporalConnectionError(issues.map((i) => `${i.path[0]}: ${i.message}`).join('\n'));
  const read = (name: 'SERVER_CA_CERT' | 'CLIENT_CERT' | 'CLIENT_KEY'): Buffer | undefined => {
    const data = env[`TEMPORAL_TLS_${name}_DATA`];
    if (data) return Buffer.from(data);
    const path = env[`TEMPORAL_TLS_${name}_PATH`];
    if (!path) return undefined;
    try {
      return readFileSync(path);
    } catch (err) {
      throw new TemporalConnectionError(
        `TEMPORAL_TLS_${name}_PATH: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
  };
  const ca = read('SERVER_CA_CERT');
  const crt = read('CLIENT_CERT');
  const key = read('CLIENT_KEY');
  const anyTls = !!(ca || crt || env.TEMPORAL_TLS_SERVER_NAME || env.TEMPORAL_API_KEY);
  const tlsOn = env.TEMPORAL_TLS === 'true' || (env.TEMPORAL_TLS === undefined && anyTls);
  return {
    address: env.TEMPORAL_ADDRESS,
    tls: tlsOn
      ? {
          serverRootCACertificate: ca,
          serverNameOverride: env.TEMPORAL_TLS_SERVER_NAME,
          clientCertPair: crt && key ? { crt, key } : undefined,
        }
      : false,
    apiKey: env.TEMPORAL_API_KEY,
  };
}

/** A line for start-up logs: where and how, never the key or certificate contents. */
export function describeTemporalConnection(env: TemporalConnectionEnv): string {
  const o = temporalConnectionOptions(env);
  const how = !o.tls ? 'plaintext' : o.tls.clientCertPair ? 'mTLS' : 'TLS';
  return `${o.address} namespace ${env.TEMPORAL_NAMESPACE} (${how}${o.apiKey ? ', API key' : ''})`;
}
