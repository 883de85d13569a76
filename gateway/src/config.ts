import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { SsoProvidersEnv } from './services/sso-service';
import { refineTemporalConnection, TemporalConfig, withTemporalProfile } from '@vansales/temporal-config';
import { MetadataConfig } from '@vansales/metadata';
import { BufferSettings, refineBufferSettings } from '@vansales/buffer';
import { RegistrySettings } from '@vansales/sdk-factory/registry';
import { AuthSettings } from '@vansales/sdk-factory/auth';
import { MAX_RESULT_BYTES, publicKeyOf } from '@vansales/protocol';

/** Gateway settings, parsed once at start; a bad one stops the process naming it. */
export const GatewayConfig = z
  .object({
    /** Interface to listen on. Default loopback; set 0.0.0.0 behind a load balancer. */
    VSC_GATEWAY_HOST: z.string().min(1).default('127.0.0.1'),
    /** Port of the REST API and the agent WebSocket endpoint. */
    VSC_GATEWAY_PORT: z.coerce.number().int().min(0).max(65535).default(8700),
    /**
     * Loopback port of the Temporal SDK's Prometheus exporter (its Workers: poll and task metrics,
     * `temporal_*`); GET /metrics forwards it. Unset: the SDK exports nothing.
     */
    VSC_TEMPORAL_METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
    /**
     * Most time a client may take to send one whole request, headers and body, in ms (then 408 and
     * the connection is closed). A 32 MiB buffer chunk must fit: the default allows ~110 KB/s uplinks.
     */
    VSC_GATEWAY_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1000).max(3_600_000).default(300_000),
    /**
     * A socket silent this long is closed, in ms. Keep it above the longest synchronous wait: a query
     * with wait: true waits up to its maxOfflineSeconds (one hour by default) for an offline agent.
     * WebSocket connections are not affected (they have their own pings).
     */
    VSC_GATEWAY_CONNECTION_TIMEOUT_MS: z.coerce.number().int().min(1000).max(86_400_000).default(3_660_000),
    /**
     * The bootstrap token of the control plane (at least 32 characters): it makes the first owner
     * (POST /v1/bootstrap) and, while enabled, may call every control-plane route (the CLI, the tests).
     * Unset, or VSC_ADMIN_TOKEN_DISABLED=true: only people's sessions and API tokens work.
     */
    VSC_ADMIN_TOKEN: z.string().min(32, 'must be at least 32 characters').optional(),
    /** Turns the admin token off without removing it from the environment. */
    VSC_ADMIN_TOKEN_DISABLED: z
      .enum(['true', 'false'])
      .default('false')
      .transform((v) => v === 'true'),
    /** Lifetime of a sign-in session, in hours. */
    VSC_SESSION_TTL_HOURS: z.coerce
      .number()
      .min(0.01)
      .max(24 * 30)
      .default(12),
    /**
     * Single sign-on providers (OpenID Connect), gateway-wide: a JSON list of { name, issuer, clientId,
     * clientSecret, redirectUri, allowedDomains, scope? }. Holds client secrets: keep it with the others.
     */
    VSC_SSO_PROVIDERS: SsoProvidersEnv,
    /** Single sign-ons one source address may start per minute before 429 (the start route is public). */
    VSC_SSO_STARTS_PER_MINUTE: z.coerce.number().int().min(1).max(100_000).default(20),
    /** Failed sign-ins one account may have per window before it is locked (429) for the rest of it. */
    VSC_SIGNIN_FAILURES_PER_WINDOW: z.coerce.number().int().min(1).max(10_000).default(5),
    /** Failed sign-ins one source address may make per window before 429 (people may share an address). */
    VSC_SIGNIN_FAILURES_PER_SOURCE: z.coerce.number().int().min(1).max(100_000).default(50),
    /** The sign-in throttle window, in ms. */
    VSC_SIGNIN_THROTTLE_WINDOW_MS: z.coerce.number().int().min(100).max(86_400_000).default(900_000),
    /** How often agents send a heartbeat, in ms (told to each agent in its welcome). */
    VSC_AGENT_HEARTBEAT_MS: z.coerce.number().int().min(1000).max(600_000).default(30_000),
    /** Heartbeat intervals an agent may miss before the gateway drops its session as dead. */
    VSC_AGENT_MISSED_HEARTBEATS: z.coerce.number().int().min(2).max(20).default(3),
    /**
     * \`redis\` (the default): gateway nodes share one session per connector and revocations through
     * Redis (VSC_REDIS_URL), and accept no agent session while Redis is unreachable. \`off\`: one node
     * alone, sessions known to this process only; for development, never behind a load balancer.
     */
    VSC_GATEWAY_CLUSTER: z.enum(['redis', 'off']).default('redis'),
    /** redis://[:password@]host:port/db of the cluster store (required unless VSC_GATEWAY_CLUSTER=off). */
    VSC_REDIS_URL: z
      .string()
      .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
      .optional(),
    /** This node's name in the cluster (leases, logs). Default: host name, process id and a random suffix. */
    VSC_GATEWAY_NODE_ID: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,100}$/, 'letters, digits, . _ - (at most 100)')
      .optional(),
    /**
     * Lifetime of a session's cluster lease in ms, renewed every third of it. It bounds how long a node
     * whose Redis is unreachable keeps serving its sessions (then it cuts them), and how long a crashed
     * node's connectors stay taken.
     */
    VSC_SESSION_LEASE_MS: z.coerce.number().int().min(1000).max(300_000).default(15_000),
    /** How long a connecting agent has to say hello, in ms. */
    VSC_AGENT_HELLO_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
    /**
     * Polls per agent Worker. 1 (the default): exactly one. Above 1, the Worker autoscales between
     * one and this many; the SDK's autoscaler then runs a 100 ms timer per Worker, ~6.5 % of a core
     * for 1,000 idle agents (bench/README.md, agents-per-gateway); one poll still dispatches 160-200
     * tasks a second to an agent when its queue has one partition.
     */
    VSC_AGENT_MAX_POLLERS: z.coerce.number().int().min(1).max(32).default(1),
    /**
     * Most tasks one agent runs at once. An agent's hello says how many it wants (up to 1,024); it
     * gets the smaller of the two, so no agent decides how much of the gateway it takes.
     */
    VSC_AGENT_MAX_CONCURRENCY: z.coerce.number().int().min(1).max(1024).default(16),
    /**
     * Largest agent result once decompressed, in bytes (a schema snapshot is the largest); a result
     * that expands past it (a gzip bomb) is refused, decompressed off the event loop.
     */
    VSC_AGENT_MAX_RESULT_BYTES: z.coerce
      .number()
      .int()
      .min(64 * 1024)
      .max(MAX_RESULT_BYTES)
      .default(16 * 1024 * 1024),
    /** Bad frames an agent may send within 10 s (each answered and logged, within bounds); one more closes its socket. */
    VSC_AGENT_MAX_PROTOCOL_ERRORS: z.coerce.number().int().min(1).max(10_000).default(20),
    /**
     * Who may use the payload codec endpoint (/v1/codec/decode): the admin token, or anyone. `none`
     * only with VSC_GATEWAY_HOST on loopback (a dev machine), and then only for loopback callers
     * naming a loopback Host (so a web page cannot reach it by DNS rebinding).
     */
    VSC_CODEC_AUTH: z.enum(['admin-token', 'none']).default('admin-token'),
    /**
     * Host names (comma-separated, no ports) the codec endpoint answers to; any other Host header
     * gets 403. Default: with VSC_CODEC_AUTH=none, 127.0.0.1, localhost and ::1; otherwise any.
     */
    VSC_CODEC_ALLOWED_HOSTS: z
      .string()
      .transform((s) =>
        s
          .split(',')
          .map((h) => h.trim().toLowerCase())
          .filter(Boolean),
      )
      .optional(),
    /**
     * Origins (comma-separated, like http://127.0.0.1:8710) of the web console allowed to call the REST
     * API from a browser. Default: none (no CORS header on any answer).
     */
    VSC_CONSOLE_ORIGINS: z
      .string()
      .transform((s) =>
        s
          .trim()
          .split(/\s*,\s*/)
          .filter(Boolean),
      )
      .pipe(z.array(z.url().transform((u) => new URL(u).origin)))
      .optional(),
    /** Origin of the Temporal Web UI allowed to call the codec endpoint from the browser. */
    VSC_CODEC_CORS_ORIGIN: z.string().url().optional(),
    /** PEM certificate chain: with VSC_TLS_KEY_FILE, the gateway serves HTTPS and WSS. */
    VSC_TLS_CERT_FILE: z.string().min(1).optional(),
    /** PEM private key of that certificate. */
    VSC_TLS_KEY_FILE: z.string().min(1).optional(),
    /** Most buffer chunk uploads and downloads this gateway serves at once (each holds up to ~2 chunks in memory). */
    VSC_BUFFER_MAX_INFLIGHT_CHUNKS: z.coerce.number().int().min(1).max(1024).default(16),
    /**
     * Most chunk requests one tenant may have in flight at once (at most VSC_BUFFER_MAX_INFLIGHT_CHUNKS):
     * one tenant's slow or stalled uploads cannot take every slot from the others.
     */
    VSC_BUFFER_MAX_INFLIGHT_CHUNKS_PER_TENANT: z.coerce.number().int().min(1).max(1024).default(8),
    /** Most bytes one buffer object may hold, all chunks together (413 past it). Default 16 GiB. */
    VSC_BUFFER_MAX_OBJECT_BYTES: z.coerce
      .number()
      .int()
      .min(1024 * 1024)
      .default(16 * 1024 ** 3),
    /**
     * Most bytes one tenant may hold in unexpired buffer objects (429 past it, with Retry-After
     * until its oldest object expires). Counted in the metadata store. Default 100 GiB.
     */
    VSC_BUFFER_TENANT_QUOTA_BYTES: z.coerce
      .number()
      .int()
      .min(1024 * 1024)
      .default(100 * 1024 ** 3),
    /** Per-tenant quotas over the default, as JSON: {"acme": 536870912000}. */
    VSC_BUFFER_TENANT_QUOTAS: z
      .string()
      .optional()
      .transform((text, ctx) => {
        if (!text) return {};
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch {
          ctx.addIssue({ code: 'custom', message: 'expected JSON: {"<tenant>": <bytes>, ...}' });
          return z.NEVER;
        }
        const parsed = z.record(z.string(), z.number().int().min(0)).safeParse(value);
        if (!parsed.success) {
          ctx.addIssue({ code: 'custom', message: 'expected {"<tenant>": <bytes>, ...} with whole byte counts' });
          return z.NEVER;
        }
        return parsed.data;
      }),
    /** Default quota (issue 12): connectors one tenant may have; an owner or admin overrides it per tenant. */
    VSC_QUOTA_CONNECTORS: z.coerce.number().int().min(0).default(10_000),
    /** Default quota: run starts (and retries, reruns) and queries per tenant per sliding minute. */
    VSC_QUOTA_RUNS_PER_MINUTE: z.coerce.number().int().min(0).default(6_000),
    /** Default quota: verified webhook deliveries per tenant per sliding minute (senders retry a 429). */
    VSC_QUOTA_WEBHOOKS_PER_MINUTE: z.coerce.number().int().min(0).default(6_000),
    /**
     * A request body that sends nothing for this long is cut with 408, in ms: a stalled upload
     * gives its chunk slot back long before VSC_GATEWAY_REQUEST_TIMEOUT_MS.
     */
    VSC_GATEWAY_BODY_IDLE_TIMEOUT_MS: z.coerce.number().int().min(500).max(3_600_000).default(30_000),
    /** Most time a client may take to send the request line and headers, in ms. */
    VSC_GATEWAY_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(500).max(3_600_000).default(30_000),
    /** Task queue of cloud activities (the buffer purge runs there). */
    VSC_CLOUD_TASK_QUEUE: z.string().min(1).max(255).default('cloud'),
    /**
     * Task queue of the control activities every gateway serves (they need the metadata store it
     * owns): the definitions call steps run, and the cursors incremental sources reached.
     */
    VSC_CONTROL_TASK_QUEUE: z.string().min(1).max(255).default('control'),
    /** Minutes between runs of the Temporal Schedule that purges expired buffer objects; 0 leaves the schedule alone. */
    VSC_BUFFER_PURGE_MINUTES: z.coerce
      .number()
      .int()
      .min(0)
      .max(24 * 60)
      .default(60),
    /**
     * host[:port] names agents dial this gateway by (comma-separated), e.g. gw.example.com. An agent signs
     * the name it dialled into each connection proof; a proof for another name is refused, so a proof
     * captured by another gateway (staging, a lookalike) is worthless here. Unset: the request's Host.
     */
    VSC_GATEWAY_PUBLIC_HOSTS: z
      .string()
      .optional()
      .transform((v) =>
        v
          ?.split(',')
          .map((h) => h.trim().toLowerCase())
          .filter(Boolean),
      ),
    /** How long a new (or re-bound) key may enrol its agent's key pair, in hours (`init` does it). */
    VSC_AGENT_ENROL_HOURS: z.coerce
      .number()
      .min(0.001)
      .max(24 * 90)
      .default(24),
    /** Lifetime of a connection challenge, in ms: the agent signs and dials at once. */
    VSC_AGENT_CHALLENGE_TTL_MS: z.coerce.number().int().min(1000).max(600_000).default(60_000),
    /** Failed authentications a source address, or an API key prefix, may make per window before 429. */
    VSC_AUTH_FAILURES_PER_WINDOW: z.coerce.number().int().min(1).max(100_000).default(10),
    /** The throttle window, in ms: failures older than this are forgotten. */
    VSC_AUTH_THROTTLE_WINDOW_MS: z.coerce.number().int().min(100).max(86_400_000).default(300_000),
    /**
     * Ed25519 private key (PKCS#8 PEM, or its base64) that signs checkpoints of the audit chains, so a
     * chain rewritten in the database cannot be recomputed. ./vsc generates one per profile. Unset:
     * no checkpoints (verify says the chain is unkeyed).
     */
    VSC_AUDIT_SIGNING_KEY: z
      .string()
      .min(40)
      .optional()
      .transform((v, ctx) => {
        if (v === undefined) return undefined;
        const pem = v.includes('-----BEGIN') ? v : Buffer.from(v, 'base64').toString('utf8');
        try {
          publicKeyOf(pem);
        } catch {
          ctx.addIssue({ code: 'custom', message: 'must be an Ed25519 private key, PKCS#8 PEM (or its base64)' });
          return z.NEVER;
        }
        return pem;
      }),
    /** Largest webhook delivery body in bytes (413 past it). Default 1 MiB; GitHub sends at most 25 MiB. */
    VSC_WEBHOOK_MAX_BODY_BYTES: z.coerce
      .number()
      .int()
      .min(1024)
      .max(25 * 1024 * 1024)
      .default(1024 * 1024),
    /** Most seconds between a delivery's signed timestamp and the gateway's clock, either way (Standard Webhooks: 300). */
    VSC_WEBHOOK_TOLERANCE_SECONDS: z.coerce.number().int().min(1).max(3600).default(300),
    /**
     * Longest wait, in ms, for Temporal to accept a delivery's run; then 503 and the sender delivers
     * again (deduplicated by delivery id). Keep it under the senders' own timeouts (GitHub: 10 s).
     */
    VSC_WEBHOOK_START_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(8_000),
    /** pino level. */
    VSC_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .extend(TemporalConfig.shape)
  .extend(MetadataConfig.shape)
  // VSC_BUFFER_KEYS and VSC_BUFFER_TOKEN_SECRET are required, like VSC_PAYLOAD_KEYS: ./vsc generates them per profile.
  .extend(BufferSettings.shape)
  // VSC_REGISTRY_SIGNING_KEY_FILE (default <state>/registry-signing-key.pem), VSC_REGISTRY_TRUSTED_KEYS, VSC_OASDIFF_BIN.
  .extend(RegistrySettings.shape)
  // VSC_CREDENTIALS_KEYS or VSC_CREDENTIALS_KEYS_FILE (without either, no credential routes), VSC_OAUTH_*.
  .extend(AuthSettings.shape)
  .extend({
    /**
     * The address OAuth providers redirect owners back to (this gateway's GET /v1/oauth/callback as
     * the internet reaches it, registered with each provider). Default: the origin of the request
     * that started the authorization.
     */
    VSC_OAUTH_REDIRECT_URL: z.url().optional(),
    /**
     * The gateway's own folder (created 0700, refused if open to others): the embedded metadata
     * store and the local buffer live under it unless placed elsewhere. Default:
     * $XDG_STATE_HOME/vansales-connect/gateway, else ~/.local/state/vansales-connect/gateway.
     */
    VSC_GATEWAY_STATE_DIR: z.string().min(1).optional(),
    /**
     * Specifications fetched by URL may come from private and loopback addresses: tests and development
     * only (a tenant could otherwise make the gateway read its own network).
     */
    VSC_SPEC_FETCH_ALLOW_PRIVATE: z
      .enum(['true', 'false'])
      .default('false')
      .transform((v) => v === 'true'),
    /** Folder of the local buffer store (VSC_BUFFER_STORE=local). Default: <state>/buffer (never the shared /tmp). */
    VSC_BUFFER_DIR: z.string().min(1).optional(),
  })
  .superRefine(refineBufferSettings)
  .refine((c) => c.VSC_GATEWAY_CLUSTER === 'off' || !!c.VSC_REDIS_URL, {
    message:
      'set VSC_REDIS_URL (redis://…) so gateway nodes share one session per connector, or VSC_GATEWAY_CLUSTER=off for a single development node',
    path: ['VSC_REDIS_URL'],
  })
  .superRefine(refineTemporalConnection)
  .refine((c) => c.VSC_CODEC_AUTH !== 'none' || isLoopbackHost(c.VSC_GATEWAY_HOST), {
    message:
      'VSC_CODEC_AUTH=none lets anyone who reaches the gateway decrypt every Temporal payload: only allowed when VSC_GATEWAY_HOST is a loopback address (127.0.0.1, ::1, localhost)',
    path: ['VSC_CODEC_AUTH'],
  })
  .refine((c) => !!c.VSC_TLS_CERT_FILE === !!c.VSC_TLS_KEY_FILE, {
    message: 'set both VSC_TLS_CERT_FILE and VSC_TLS_KEY_FILE, or neither',
    path: ['VSC_TLS_CERT_FILE'],
  });
/** The settings with the folders resolved: every default that lives under the state folder is filled in. */
export type GatewayConfig = z.infer<typeof GatewayConfig> & {
  VSC_GATEWAY_STATE_DIR: string;
  VSC_BUFFER_DIR: string;
  /** A folder, or `:memory:` (asked for explicitly: everything is lost when the process ends). */
  VSC_METADATA_DIR: string;
};

/** Where state goes when nothing says otherwise: the XDG state folder, like other daemons run by a user. */
export function defaultGatewayStateDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_STATE_HOME || join(homedir(), '.local', 'state'), 'vansales-connect', 'gateway');
}

/** Loopback names and addresses, as a listen host or a Host header's name. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::ffff:127.0.0.1';
}

/** The Host names the codec endpoint answers to (undefined: any). */
export function codecAllowedHosts(config: GatewayConfig): string[] | undefined {
  return (
    config.VSC_CODEC_ALLOWED_HOSTS ?? (config.VSC_CODEC_AUTH === 'none' ? ['127.0.0.1', 'localhost', '::1'] : undefined)
  );
}

export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const parsed = GatewayConfig.safeParse(withTemporalProfile(env));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`invalid gateway configuration:\n${lines.join('\n')}`);
  }
  const state = parsed.data.VSC_GATEWAY_STATE_DIR ?? defaultGatewayStateDir(env);
  // Keys, bindings, revocations and the audit chain must survive a restart: the embedded store is
  // persistent unless `:memory:` is asked for by name.
  return {
    ...parsed.data,
    VSC_GATEWAY_STATE_DIR: state,
    VSC_BUFFER_DIR: parsed.data.VSC_BUFFER_DIR ?? join(state, 'buffer'),
    VSC_METADATA_DIR: parsed.data.VSC_METADATA_DIR ?? join(state, 'metadata'),
  };
}
