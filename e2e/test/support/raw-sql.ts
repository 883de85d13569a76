import type { MetadataDb } from '@vansales/metadata';

/**
 * One SQL statement on the gateway's metadata store, as kysely's CompiledQuery.raw would make it,
 * built by hand: the e2e package does not depend on kysely itself.
 */
export async function rawQuery<R = Record<string, unknown>>(
  db: MetadataDb,
  text: string,
  parameters: readonly unknown[] = [],
): Promise<R[]> {
  const result = await db.executeQuery<R>({
    sql: text,
    parameters,
    query: { kind: 'RawNode', sqlFragments: [text], parameters: [] },
    queryId: { queryId: 'e2e-raw' },
  } as never);
  return result.rows;
}
