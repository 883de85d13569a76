import type { TableRef } from '@vansales/protocol';
import { cloud, site } from './helpers';

export interface ExampleSiteToCloudInput {
  tenantId: string;
  connectorId: string;
  siteDatabase: string;
  table: TableRef;
  cloudDatabase: string;
  keyColumns: string[];
  cloudTaskQueue?: string;
}

/**
 * The runnable example of the code-first helpers (workflows/src/helpers): a table of a site copied
 * into a cloud database, written as a plain Temporal workflow. The rows go site -> buffer -> cloud;
 * only the dataset's reference passes through this workflow's history.
 */
export async function exampleSiteToCloudWorkflow(input: ExampleSiteToCloudInput): Promise<{ rows: number }> {
  const dataset = await site(input.connectorId).extract(input.siteDatabase, { table: input.table });
  const loaded = await cloud(input.tenantId, { taskQueue: input.cloudTaskQueue }).load(dataset, {
    database: input.cloudDatabase,
    table: input.table,
    keyColumns: input.keyColumns,
    createIfMissing: true,
  });
  return { rows: loaded.rowCount };
}
