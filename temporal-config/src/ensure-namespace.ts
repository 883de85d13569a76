import { type Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { msToTs } from '@temporalio/common/lib/time';
import { SEARCH_ATTRIBUTE_NAMES, SearchAttribute } from './search-attributes';

const ALREADY_EXISTS = 6; // gRPC status code
const NOT_FOUND = 5; // gRPC status code

const { IndexedValueType } = temporal.api.enums.v1;
/** The server's index type of each kind of key (a keyword list or an integer is not a keyword). */
const INDEXED_TYPE: Record<
  (typeof SearchAttribute)[keyof typeof SearchAttribute]['type'],
  temporal.api.enums.v1.IndexedValueType
> = {
  KEYWORD: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  KEYWORD_LIST: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
  INT: IndexedValueType.INDEXED_VALUE_TYPE_INT,
};

function isAlreadyExists(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: number }).code === ALREADY_EXISTS;
}

/**
 * Calls `fn` until it stops answering NOT_FOUND for the namespace: a namespace just registered is
 * not served by the operator service until the server's namespace cache refreshes (a CI run once
 * failed on exactly that, "Namespace vansales is not found", right after registering it).
 */
async function whileNamespaceUnknown<T>(fn: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      const notFound = typeof err === 'object' && err !== null && (err as { code?: number }).code === NOT_FOUND;
      if (!notFound || Date.now() > deadline) throw err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

export interface EnsureResult {
  namespaceCreated: boolean;
  searchAttributesAdded: string[];
}

/**
 * Creates the namespace and the custom search attributes when missing; safe to call at every start
 * and against any Temporal cluster the operator points us at.
 */
export async function ensureNamespace(
  connection: Connection,
  namespace: string,
  retentionDays = 3,
): Promise<EnsureResult> {
  let namespaceCreated = false;
  try {
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs(`${retentionDays * 24} hours`),
    });
    namespaceCreated = true;
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }

  const existing = await whileNamespaceUnknown(() => connection.operatorService.listSearchAttributes({ namespace }));
  const have = new Set(Object.keys(existing.customAttributes ?? {}));
  const missing = SEARCH_ATTRIBUTE_NAMES.filter((name) => !have.has(name));
  if (missing.length > 0) {
    const searchAttributes: Record<string, temporal.api.enums.v1.IndexedValueType> = {};
    for (const name of missing) searchAttributes[name] = INDEXED_TYPE[SearchAttribute[name].type];
    try {
      await whileNamespaceUnknown(() =>
        connection.operatorService.addSearchAttributes({ namespace, searchAttributes }),
      );
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }
  // A freshly registered namespace takes a moment to be served by every frontend.
  if (namespaceCreated || missing.length > 0) await waitUntilVisible(connection, namespace, missing);
  return { namespaceCreated, searchAttributesAdded: missing };
}

async function waitUntilVisible(connection: Connection, namespace: string, attributes: string[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      await connection.workflowService.describeNamespace({ namespace });
      const listed = await connection.operatorService.listSearchAttributes({ namespace });
      if (attributes.every((a) => a in (listed.customAttributes ?? {}))) return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline)
      throw new Error(`namespace ${namespace} or its search attributes did not become visible within 30 s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
