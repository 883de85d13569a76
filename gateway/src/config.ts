import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { refineTemporalConnection, TemporalConfig, withTemporalProfile } from '@vansales/temporal-config';
import { MetadataConfig } from '@vansales/metadata';
import { BufferSettings, refineBufferSettings } from '@vansales/buffer';

/** Gateway settings, parsed once at start; a bad one stops the process naming it. */
export const GatewayConfig = z
  .object({
    /** Interface to listen on. Default loopback; set 0.0.0.0 behind a load balancer. */
    VSC_GATEWAY_HOST: z.string().min(1).default('127.0.0.1'),
    /** Port of the REST API and the agent WebSocket endpoint. */
    VSC_GATEWAY_PORT: z.coerce.number().int().min(0).max(65535).default(8700),
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
    /** Bearer token of the control-plane API (operators, console, CLI). At least 32 characters. */
    VSC_ADMIN_TOKEN: z.string().min(32, 'must be at least 32 characters'),
    /** How often agents send a heartbeat, in ms (told to each agent in its welcome). */
    VSC_AGENT_HEARTBEAT_MS: z.coerce.number().int().min(1000).max(600_000).default(30_000),
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
    /** Origin of the Temporal Web UI allowed to call the codec endpoint from the browser. */
    VSC_CODEC_CORS_ORIGIN: z.string().url().optional(),
    /** PEM certificate chain: with VSC_TLS_KEY_FILE, the gateway serves HTTPS and WSS. */
    VSC_TLS_CERT_FILE: z.string().min(1).optional(),
    /** PEM private key of that certificate. */
    VSC_TLS_KEY_FILE: z.string().min(1).optional(),
    /** Most buffer chunk uploads and downloads this gateway serves at once (each holds up to ~2 chunks in memory). */
    VSC_BUFFER_MAX_INFLIGHT_CHUNKS: z.coerce.number().int().min(1).max(1024).default(16),
    /** Task queue of cloud activities (the buffer purge runs there). */
    VSC_CLOUD_TASK_QUEUE: z.string().min(1).max(255).default('cloud'),
    /** Minutes between runs of the Temporal Schedule that purges expired buffer objects; 0 leaves the schedule alone. */
    VSC_BUFFER_PURGE_MINUTES: z.coerce
      .number()
      .int()
      .min(0)
      .max(24 * 60)
      .default(60),
    /** pino level. */
    VSC_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .extend(TemporalConfig.shape)
  .extend(MetadataConfig.shape)
  // VSC_BUFFER_KEYS and VSC_BUFFER_TOKEN_SECRET are required, like VSC_PAYLOAD_KEYS: ./vsc generates them per profile.
  .extend(BufferSettings.shape)
  .extend({
    /** Folder of the local buffer store (VSC_BUFFER_STORE=local). Default: vsc-gateway-buffer in the OS temporary folder. */
    VSC_BUFFER_DIR: z.string().min(1).default(join(tmpdir(), 'vsc-gateway-buffer')),
  })
  .superRefine(refineBufferSettings)
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
export type GatewayConfig = z.infer<typeof GatewayConfig>;

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
  return parsed.data;
}
