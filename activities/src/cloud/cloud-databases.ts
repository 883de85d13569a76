import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ApplicationFailure } from '@temporalio/common';
import { openDataConnection, type DataConnection, type DataConnectionConfig } from '@vansales/dataflow';
import { AgentErrorType, Dialect } from '@vansales/protocol';

/**
 * Databases the cloud reaches directly (a managed PostgreSQL, a cloud MySQL), per tenant. Kept in a
 * 0600 JSON file named by VSC_CLOUD_DATABASES_FILE; a Vault-compatible store can implement the
 * same lookup. A tenant can only ever name its own databases.
 */
const CloudDatabase = z.object({
  // SQL Server rows cannot be read or written by the data plane yet.
  dialect: Dialect.exclude(['mssql']),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  user: z.string().min(1),
  password: z.string(),
  database: z.string().min(1),
  statementTimeoutMs: z.number().int().min(100).optional(),
});
const CloudDatabasesFile = z.record(z.string().min(1), z.record(z.string().min(1), CloudDatabase));

export interface CloudDatabases {
  lookup(tenantId: string, name: string): DataConnectionConfig | undefined;
}

export class CloudDatabasesError extends Error {
  override name = 'CloudDatabasesError';
}

export function cloudDatabasesFrom(entries: z.input<typeof CloudDatabasesFile>): CloudDatabases {
  const parsed = CloudDatabasesFile.parse(entries);
  // Own entries only: tenant and database names come from workflow input, and a plain object
  // answers `__proto__`, `constructor` or `toString` with something that is not a database.
  return {
    lookup: (tenantId, name) => {
      const databases = Object.hasOwn(parsed, tenantId) ? parsed[tenantId] : undefined;
      return databases && Object.hasOwn(databases, name) ? databases[name] : undefined;
    },
  };
}

/** Read once at start; a worker restarts to pick up a changed file. */
export function loadCloudDatabases(path: string | undefined): CloudDatabases {
  if (!path) return { lookup: () => undefined };
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new CloudDatabasesError(
      `cannot read cloud databases file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  const parsed = CloudDatabasesFile.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    // The path names the setting; values are never echoed (they hold passwords).
    throw new CloudDatabasesError(
      `cloud databases file ${path} is invalid at ${issue?.path.join('.') ?? '(root)'}: ${issue?.message ?? ''}`,
    );
  }
  return cloudDatabasesFrom(parsed.data);
}

/** Opens a database of this tenant that the cloud reaches; any other name is the caller's to fix. */
export async function openCloudDatabase(
  databases: CloudDatabases,
  tenantId: string,
  database: string,
): Promise<DataConnection> {
  const config = databases.lookup(tenantId, database);
  if (!config)
    throw ApplicationFailure.create({
      type: AgentErrorType.unknownDatabase,
      message: `tenant ${tenantId} has no cloud database named ${database}`,
      nonRetryable: true,
    });
  return openDataConnection(config);
}
