import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { AgentVersion, SITE_SPEC_MAX_BYTES_CEILING, type TableRef } from '@vansales/protocol';
import type { DataPolicy } from '@vansales/dataflow';

/**
 * The site's own rules, kept in a file on the site (the cloud cannot change them): which tables
 * typed loads may write to (default: none), and which columns are dropped, masked or hashed before
 * any row leaves the site.
 */
const TablePattern = z.string().min(1).max(300).describe('"table", "schema.table", "schema.*" or "*"');

const HeaderName = z
  .string()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$/, 'a header name (letters, digits, -)')
  .refine(
    (n) => !['host', 'content-length', 'transfer-encoding', 'connection', 'idempotency-key'].includes(n.toLowerCase()),
    'a header the request sets itself',
  );
/** The name of a secret in the agent's vault (stored with `mini-connector init` or the vault tools). */
const VaultName = z.string().min(1).max(200);

/**
 * A user's own API on the site network, by name: definitions say `{ kind: 'site-api', api: name }`
 * and a path; only the agent knows where it is and how to log in, and it calls nothing else.
 */
export const SiteApiEntry = z
  .object({
    /** http(s) URL on the site network (private addresses are fine: only this agent calls it). */
    baseUrl: z
      .string()
      .url()
      .refine((u) => /^https?:\/\//i.test(u), 'must be an http:// or https:// URL')
      .refine((u) => !new URL(u).username && !new URL(u).password, 'must not carry user info; use credential'),
    /** Attached by the agent from its vault; never sent to the gateway. */
    credential: z
      .discriminatedUnion('kind', [
        z.object({ kind: z.literal('bearer'), vault: VaultName }).strict(),
        z
          .object({
            kind: z.literal('basic'),
            username: z
              .string()
              .max(512)
              .regex(/^[^:\r\n]*$/),
            vault: VaultName,
          })
          .strict(),
        z.object({ kind: z.literal('header'), name: HeaderName, vault: VaultName }).strict(),
      ])
      .optional(),
    /** Methods the cloud may ask for (default GET only: read-only unless the site says otherwise). */
    methods: z
      .array(z.enum(['GET', 'POST', 'PUT', 'PATCH']))
      .min(1)
      .default(['GET']),
    /** Path prefixes under baseUrl a step may call (default: all of it). */
    paths: z
      .array(z.string().regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*$/, 'a path starting with /, without ? # or \\'))
      .min(1)
      .default(['/']),
    timeoutMs: z.number().int().min(100).max(600_000).default(30_000),
    maxResponseBytes: z
      .number()
      .int()
      .min(1024)
      .max(1024 * 1024 * 1024)
      .default(32 * 1024 * 1024),
  })
  .strict();
export type SiteApiEntry = z.infer<typeof SiteApiEntry>;

/**
 * Whether this agent updates itself to the version its tenant approves (issue 13 §5): `approved`
 * (the default) takes it, `pinned` takes only `version`, `off` never updates. Every update is
 * verified against the release keys pinned in the agent; `allowDevelopmentKey` also trusts the
 * development key a dev build carries (for development and tests only; logged at every update).
 */
export const SiteUpdatePolicy = z
  .object({
    mode: z.enum(['approved', 'pinned', 'off']).default('approved'),
    version: AgentVersion.optional().describe('the one version a pinned site runs'),
    allowDevelopmentKey: z.boolean().default(false),
    /** How long a new version has to connect (its trial, then its first start) before it is rolled back. */
    connectDeadlineSeconds: z.number().int().min(5).max(3600).default(120),
  })
  .strict()
  .refine((p) => p.mode !== 'pinned' || p.version !== undefined, {
    message: 'updates.mode "pinned" needs updates.version (the version to stay on)',
    path: ['version'],
  });
export type SiteUpdatePolicy = z.infer<typeof SiteUpdatePolicy>;

export const SitePolicyFile = z
  .object({
    version: z.literal(1).default(1),
    writableTables: z.array(z.object({ database: z.string().min(1), table: TablePattern })).default([]),
    columns: z
      .array(
        z.object({
          database: z.string().min(1),
          table: TablePattern,
          column: z.string().min(1).max(128),
          /** drop: never read; mask: replaced by "****"; hash: keyed SHA-256 (joins still work, values do not leave). */
          action: z.enum(['drop', 'mask', 'hash']),
        }),
      )
      .default([]),
    /** Key for `hash`; without it the hash is unkeyed (guessable for small value sets). */
    hashSalt: z.string().min(16).optional(),
    /** The site's own APIs HTTP steps may call through this agent, by name (default: none). */
    apis: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/, 'an API name: letters, digits, _ - $'), SiteApiEntry)
      .default({}),
    /**
     * API specifications the gateway asks this agent to fetch (api.fetch-spec): `maxBytes` caps their
     * size, over the agent config's `specFetch.maxBytes` (default 32 MiB, at most 256 MiB).
     */
    specFetch: z
      .object({ maxBytes: z.number().int().min(1024).max(SITE_SPEC_MAX_BYTES_CEILING).optional() })
      .strict()
      .optional(),
    /** Agent updates (default: take the version the tenant approves, verified against the pinned keys). */
    updates: SiteUpdatePolicy.default(() => SiteUpdatePolicy.parse({})),
  })
  .strict();
export type SitePolicyFile = z.infer<typeof SitePolicyFile>;

export class SitePolicyError extends Error {
  override name = 'SitePolicyError';
}

/** The site's rules as the data pipeline applies them on every path (dataflow's DataPolicy). */
export type SitePolicy = DataPolicy;

/** Where a configured database lives: two aliases of the same server database share their rules. */
export interface DatabaseLocation {
  dialect: string;
  host: string;
  port: number;
  database: string;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/**
 * What the server behind an alias is: PostgreSQL rules hold for one database of a server; a
 * MySQL server is one namespace (`db.table` reaches any database from any alias), so its
 * rules hold for the server and the rule's schema comes from its alias's database.
 */
function identityOf(location: DatabaseLocation): string {
  const host = LOOPBACK.has(location.host.toLowerCase()) ? 'loopback' : location.host.toLowerCase();
  return location.dialect === 'postgres'
    ? `postgres|${host}|${location.port}|${location.database}`
    : `${location.dialect}|${host}|${location.port}`;
}

const same = (a: string, b: string, caseInsensitive: boolean) =>
  caseInsensitive ? a.toLowerCase() === b.toLowerCase() : a === b;

/**
 * Whether a `table` pattern covers a table. `schemaless` is what a pattern without a schema means:
 * a schema name, or undefined for any schema (a protective column rule on a PostgreSQL alias).
 */
function patternCovers(
  pattern: string,
  table: TableRef,
  schemaless: string | undefined,
  caseInsensitive: boolean,
): boolean {
  if (pattern === '*') return true;
  const dot = pattern.indexOf('.');
  const schema = dot < 0 ? schemaless : pattern.slice(0, dot);
  const name = dot < 0 ? pattern : pattern.slice(dot + 1);
  // A table without a schema comes from a caller that did not resolve it (a pre-check): any schema.
  if (schema !== undefined && table.schema !== undefined && !same(schema, table.schema, caseInsensitive)) return false;
  return name === '*' || same(name, table.name, caseInsensitive);
}

/**
 * The site policy over the agent's configured databases (`locations`, from its config): column
 * rules of one alias hold for every alias of the same server database, names are compared as the
 * server resolves them (default schema, case) and column names without case (MySQL ignores it;
 * for a rule, matching too much is safe).
 */
export function sitePolicy(
  file: SitePolicyFile,
  source: string,
  locations: Record<string, DatabaseLocation> = {},
): SitePolicy {
  const located = (name: string) => (Object.hasOwn(locations, name) ? locations[name] : undefined);
  const identity = (name: string) => {
    const location = located(name);
    return location ? identityOf(location) : `alias|${name}`;
  };
  const sameServerDatabase = (ruleDatabase: string, database: string) =>
    ruleDatabase === database || identity(ruleDatabase) === identity(database);
  /** A rule's schema-less pattern on MySQL means its alias's database; on PostgreSQL any schema. */
  const ruleSchema = (ruleDatabase: string) => {
    const location = located(ruleDatabase);
    return location && location.dialect !== 'postgres' ? location.database : undefined;
  };
  const rulesOn = (database: string, table: TableRef) =>
    file.columns.filter(
      (c) => sameServerDatabase(c.database, database) && patternCovers(c.table, table, ruleSchema(c.database), true),
    );
  return {
    source,
    canWrite: (database, table, names) =>
      file.writableTables.some(
        (w) =>
          w.database === database &&
          // A grant is exact: `customer` allows the default schema's customer only.
          patternCovers(w.table, table, names?.defaultSchema, names?.caseInsensitive ?? false),
      ),
    hasColumnRules: (database) => file.columns.some((c) => sameServerDatabase(c.database, database)),
    columnRule: (database, table, column) =>
      rulesOn(database, table).find((c) => c.column.toLowerCase() === column.toLowerCase()),
    tableRules: (database, table) => rulesOn(database, table),
    protect(action, value) {
      if (value === null || value === undefined) return null;
      if (action === 'mask') return '****';
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      return file.hashSalt
        ? createHmac('sha256', file.hashSalt).update(text).digest('hex')
        : createHash('sha256').update(text).digest('hex');
    },
  };
}

/** No file: nothing is writable and nothing is masked, the least a site can grant. */
export const DEFAULT_SITE_POLICY = sitePolicy(
  SitePolicyFile.parse({}),
  'the default site policy (no policy file: no table is writable)',
);

/**
 * The site's policy file as written (the default when there is none); a broken file throws
 * SitePolicyError, which refuses everything it governs rather than falling back.
 */
export function readSitePolicyFile(path: string | undefined): { file: SitePolicyFile; source: string } {
  if (!path)
    return { file: SitePolicyFile.parse({}), source: 'the default site policy (no policy file: no table is writable)' };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      return { file: SitePolicyFile.parse({}), source: `the site policy ${path} (missing: no table is writable)` };
    throw new SitePolicyError(
      `cannot read the site policy ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new SitePolicyError(`the site policy ${path} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = SitePolicyFile.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new SitePolicyError(`the site policy ${path} is invalid: ${lines.join('; ')}`);
  }
  return { file: parsed.data, source: `the site policy ${path}` };
}

/**
 * Reads the policy file each time it is asked for, so a site's edit applies to the next task
 * without a restart. A broken file refuses everything it governs rather than falling back.
 */
export function loadSitePolicy(path: string | undefined, locations: Record<string, DatabaseLocation> = {}): SitePolicy {
  if (!path) return DEFAULT_SITE_POLICY;
  const { file, source } = readSitePolicyFile(path);
  return sitePolicy(file, source, locations);
}
