import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { hasVaultReferences, openVault, resolveSecrets, VAULT_FILE, VaultError } from './vault';
import { IDENTITY_KEY_SECRET } from './gateway-auth';
import { API_ARTIFACT_CACHE_DIR } from './api-artifacts/cache-dir';

const vaultExists = (dir: string) => existsSync(join(dir, VAULT_FILE));
import { z } from 'zod';
import { checkApiKey, DEFAULT_SITE_SPEC_MAX_BYTES, Dialect, SITE_SPEC_MAX_BYTES_CEILING } from '@vansales/protocol';

const DatabaseConfig = z.object({
  dialect: Dialect,
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  user: z.string().min(1),
  /** Read from the local vault in a later release; never sent to the gateway. */
  password: z.string(),
  database: z.string().min(1),
  /** Longest a single statement may run, in ms. */
  statementTimeoutMs: z.number().int().min(100).max(3_600_000).default(30_000),
});
export type DatabaseConfig = z.infer<typeof DatabaseConfig>;

export const AgentConfig = z.object({
  /** ws:// or wss:// URL of the gateway's agent endpoint. */
  gatewayUrl: z
    .string()
    .url()
    .refine((u) => /^wss?:\/\//.test(u), 'must start with ws:// or wss://')
    .refine(
      (u) => !/[?&](key|token|apikey)=/i.test(u),
      'must not carry a key: the key goes in the Authorization header',
    )
    .refine(
      (u) => u.startsWith('wss://') || /^ws:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?\//.test(u),
      'must use wss:// (plain ws:// only to a gateway on this machine): the key and the results must not cross a network in clear text',
    ),
  /**
   * Extra CA certificates (PEM file) to trust for the gateway and its buffer, in addition to the
   * roots Node trusts: a company's own CA, or the CA of a TLS-inspecting proxy.
   */
  tlsCaFile: z.string().min(1).optional(),
  /**
   * The HTTPS proxy (CONNECT) to the gateway. When set it wins over HTTPS_PROXY/NO_PROXY of the
   * environment. The password may be a vault reference (`{ "vault": "proxyPassword" }`).
   */
  proxy: z
    .object({
      url: z
        .string()
        .url()
        .refine((u) => /^https?:\/\//i.test(u), 'an http:// or https:// proxy URL (the proxy is asked to CONNECT)')
        .refine(
          (u) => !new URL(u).password,
          'must not carry a password: put it in proxy.password as a vault reference ({ "vault": "proxyPassword" })',
        ),
      username: z.string().min(1).max(256).optional(),
      password: z.string().min(1).max(1024).optional(),
      /** Hosts reached directly, as NO_PROXY: names, .domains, *, host:port, IPs, CIDR ranges. */
      noProxy: z.union([z.string().max(4096), z.array(z.string().min(1).max(256)).max(256)]).optional(),
    })
    .optional(),
  /** The API key issued for this site (vmc_...). Checked offline before dialling. */
  apiKey: z.string().superRefine((k, ctx) => {
    const check = checkApiKey(k);
    if (!check.ok) ctx.addIssue({ code: 'custom', message: check.reason });
  }),
  /**
   * The agent's Ed25519 private key (PKCS#8 PEM): the key is bound to its public half, and every
   * connection proves it. Kept in the vault (`agentIdentityKey`); init and run create it when missing.
   */
  identityKey: z.string().min(1).max(4096).optional(),
  /** Overrides /etc/machine-id (an informational label; keys bound before key pairs were bound to it). */
  machineId: z.string().min(1).max(128).optional(),
  /** How many tasks run at once. */
  concurrency: z.number().int().min(1).max(256).default(4),
  reconnect: z
    .object({
      initialDelayMs: z.number().int().min(10).default(500),
      maxDelayMs: z.number().int().min(100).default(30_000),
    })
    .default({ initialDelayMs: 500, maxDelayMs: 30_000 }),
  /**
   * The site's policy file: tables that loads may write (default none), columns to drop, mask or
   * hash before rows leave. Default: policy.json beside the config file (absent = nothing writable).
   */
  policyFile: z.string().min(1).optional(),
  /** The site's append-only audit chain (JSON lines). Default: audit.jsonl beside the config file. */
  auditLogPath: z.string().min(1).optional(),
  /** SDK artifacts (issue 11): fetched from the gateway by content hash, verified, cached. */
  apiArtifacts: z
    .object({
      /** Verified artifacts by hash (0600 files in a 0700 folder) and the pinned registry keys. Default: api-artifacts/ beside the config file. */
      cacheDir: z.string().min(1).optional(),
      /**
       * The registry public keys this agent trusts (base64 of each Ed25519 key's SPKI DER). Unset: the
       * gateway's keys are learned the first time an artifact is needed and pinned in cacheDir; any
       * other key is refused afterwards.
       */
      trustedRegistryKeys: z
        .array(
          z
            .string()
            .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'base64 of an Ed25519 public key (SPKI DER)')
            .max(200),
        )
        .max(32)
        .optional(),
    })
    .default({}),
  /**
   * Heap of each data.transform's worker thread, in MB (old and young generation). Default 128 and
   * 16 (see @vansales/transforms' workerHeapMb): a transform past it fails as TransformMemoryLimit.
   */
  transformHeapMb: z.number().int().min(16).max(16_384).optional(),
  transformYoungMb: z.number().int().min(1).max(1024).optional(),
  /** API specifications the gateway asks this agent to fetch (api.fetch-spec), besides the URLs under the site policy's APIs. */
  specFetch: z
    .object({
      /** URL prefixes (http or https) on the site network the agent may GET a specification from. */
      allowedUrlPrefixes: z
        .array(
          z
            .string()
            .url()
            .max(2000)
            .refine((u) => /^https?:\/\//i.test(u), 'an http:// or https:// URL'),
        )
        .max(256)
        .default([]),
      /**
       * Largest specification fetched, in bytes (default 32 MiB, at most 256 MiB): up to 512 KiB it rides
       * the answer, above it the buffer. The site policy file's `specFetch.maxBytes` overrides it.
       */
      maxBytes: z.number().int().min(1024).max(SITE_SPEC_MAX_BYTES_CEILING).default(DEFAULT_SITE_SPEC_MAX_BYTES),
    })
    .default({ allowedUrlPrefixes: [], maxBytes: DEFAULT_SITE_SPEC_MAX_BYTES }),
  /**
   * Prometheus `/metrics`, `/livez` and `/readyz` on a local port (README "Metrics"); off by default.
   * The host stays 127.0.0.1 unless a scraper on another machine must reach it.
   */
  metrics: z
    .object({
      enabled: z.boolean().default(false),
      host: z.string().min(1).max(255).default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(9469),
    })
    .default({ enabled: false, host: '127.0.0.1', port: 9469 }),
  /**
   * JSON-lines log file beside stdout (the journal under systemd), rotated by size. `dir` defaults to
   * VSC_AGENT_LOG_DIR (set by the service definition); without either, stdout only.
   */
  logFile: z
    .object({
      dir: z.string().min(1).optional(),
      maxBytes: z
        .number()
        .int()
        .min(64 * 1024)
        .max(1024 * 1024 * 1024)
        .default(10 * 1024 * 1024),
      keep: z.number().int().min(0).max(100).default(5),
    })
    .default({ maxBytes: 10 * 1024 * 1024, keep: 5 }),
  /**
   * How often a connected agent runs its doctor checks again and reports them (besides at each
   * connection): default 15 minutes, one privilege query per database each time.
   */
  doctorIntervalMs: z.number().int().min(10_000).max(86_400_000).default(900_000),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  databases: z
    .record(z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/, 'database names are letters, digits, _ . -'), DatabaseConfig)
    .default({}),
});
export type AgentConfig = z.infer<typeof AgentConfig>;
export type AgentConfigInput = z.input<typeof AgentConfig>;

export class AgentConfigError extends Error {
  override name = 'AgentConfigError';
}

/** Parses the agent's config; errors name the setting and never echo a secret value. */
export function parseAgentConfig(raw: unknown, source = 'config'): AgentConfig {
  const parsed = AgentConfig.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new AgentConfigError(`invalid agent configuration in ${source}:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

export function loadAgentConfig(path: string): AgentConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new AgentConfigError(
      `cannot read agent configuration ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new AgentConfigError(`agent configuration ${path} is not valid JSON: ${(err as Error).message}`);
  }
  // Secrets written by `mini-connector init` are references into the vault beside the file; the
  // agent's private key is in that vault whether or not agent.json names it.
  const dir = dirname(path);
  const keyInVault = (raw as { identityKey?: unknown } | null)?.identityKey === undefined && vaultExists(dir);
  if (keyInVault || hasVaultReferences(raw)) {
    try {
      const vault = openVault({ dir });
      raw = resolveSecrets(raw, vault);
      const identityKey = keyInVault ? vault.get(IDENTITY_KEY_SECRET) : undefined;
      if (identityKey) raw = { ...(raw as object), identityKey };
    } catch (err) {
      if (err instanceof VaultError) throw new AgentConfigError(`${path}: ${err.message}`);
      throw err;
    }
  }
  const config = parseAgentConfig(raw, path);
  return {
    ...config,
    policyFile: config.policyFile ?? join(dirname(path), 'policy.json'),
    apiArtifacts: {
      ...config.apiArtifacts,
      cacheDir: config.apiArtifacts.cacheDir ?? join(dirname(path), API_ARTIFACT_CACHE_DIR),
    },
  };
}
