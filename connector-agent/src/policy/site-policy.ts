import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { TableRef } from '@vansales/protocol';
import type { DataPolicy } from '@vansales/dataflow';

/**
 * The site's own rules, kept in a file on the site (the cloud cannot change them): which tables
 * typed loads may write to (default: none), and which columns are dropped, masked or hashed before
 * any row leaves the site.
 */
const TablePattern = z.string().min(1).max(300).describe('"table", "schema.table", "schema.*" or "*"');

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
  })
  .strict();
export type SitePolicyFile = z.infer<typeof SitePolicyFile>;

export class SitePolicyError extends Error {
  override name = 'SitePolicyError';
}

/** The site's rules as the data pipeline applies them on every path (dataflow's DataPolicy). */
export type SitePolicy = DataPolicy;

function matches(pattern: string, table: TableRef): boolean {
  if (pattern === '*') return true;
  const dot = pattern.indexOf('.');
  if (dot < 0) return pattern === table.name;
  const schema = pattern.slice(0, dot);
  const name = pattern.slice(dot + 1);
  return schema === (table.schema ?? '') && (name === '*' || name === table.name);
}

export function sitePolicy(file: SitePolicyFile, source: string): SitePolicy {
  return {
    source,
    canWrite: (database, table) => file.writableTables.some((w) => w.database === database && matches(w.table, table)),
    hasColumnRules: (database) => file.columns.some((c) => c.database === database),
    columnAction: (database, table, column) =>
      file.columns.find((c) => c.database === database && c.column === column && matches(c.table, table))?.action,
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
 * Reads the policy file each time it is asked for, so a site's edit applies to the next task
 * without a restart. A broken file refuses everything it governs rather than falling back.
 */
export function loadSitePolicy(path: string | undefined): SitePolicy {
  if (!path) return DEFAULT_SITE_POLICY;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      return sitePolicy(SitePolicyFile.parse({}), `the site policy ${path} (missing: no table is writable)`);
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
  return sitePolicy(parsed.data, `the site policy ${path}`);
}
