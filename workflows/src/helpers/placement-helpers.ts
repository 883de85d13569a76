import { proxyActivities, uuid4 } from '@temporalio/workflow';
import type { AgentActivities, CloudActivities } from '@vansales/activities';
import type { DatasetRef, DefinitionCloudActivities, TransformOp } from '@vansales/definitions';
import type {
  DataLoadOutputT,
  DataTransferInputT,
  DataTransferOutputT,
  SqlQueryOutputT,
  TableRef,
} from '@vansales/protocol';
import { connectorTaskQueue } from '@vansales/protocol/task-queues';
import { agentQueryOptions, dataOptions } from '../activity-options';
import { interpreterOptions } from '../definition/step-options';

/**
 * Typed helpers for code-first users who write plain Temporal workflows (issue 10 item 6b): each
 * call runs as an activity on the right task queue (a site's connector queue or the cloud queue), so
 * a workflow never names a queue, and data moves between calls as buffer references
 * (`DatasetRef`), never as rows in history. The interpreter runs the same activities.
 *
 * ```ts
 * const films = await site(connectorId).extract('sakila', { table: { name: 'film' } });
 * await cloud(tenantId).load(films, { database: 'warehouse', table: { name: 'film' }, keyColumns: ['film_id'] });
 * ```
 */
export interface SiteOptions {
  /** How long a task may wait for an offline agent before the call fails (default 1 h). */
  maxOfflineSeconds?: number;
}

export interface LoadTarget {
  database: string;
  table: TableRef;
  keyColumns: string[];
  /** Create the table from the dataset's schema when it is missing (default false). */
  createIfMissing?: boolean;
}

const objectId = () => uuid4().replace(/-/g, '');

/** A site, reached through its connector (the agent on that site). */
export function site(connectorId: string, options: SiteOptions = {}) {
  const data = proxyActivities<AgentActivities>(dataOptions(connectorTaskQueue(connectorId), options));
  const queries = proxyActivities<AgentActivities>(agentQueryOptions({ connectorId, ...options }));
  return {
    /** A small read-only query whose rows come back inline (at most `maxRows`); extract anything larger. */
    query(database: string, sql: string, params: (string | number | boolean | null)[] = [], maxRows = 1000) {
      return queries.sqlQuery({ database, sql, params, maxRows }) as Promise<SqlQueryOutputT>;
    },
    /** A table (or a read-only query) of the site into the buffer; returns the dataset's reference. */
    async extract(
      database: string,
      source: { table: TableRef; columns?: string[] } | { sql: string },
      more: { keyColumns?: string[]; chunkRows?: number } = {},
    ): Promise<DatasetRef> {
      const out = await data.dataExtract({
        database,
        source,
        keyColumns: more.keyColumns,
        chunkRows: more.chunkRows ?? 50_000,
        objectId: objectId(),
      });
      return {
        objectId: out.objectId,
        rows: out.rowCount,
        ...(out.columns ? { columns: out.columns } : {}),
        writtenBy: { connectorId },
      };
    },
    /** A dataset into a table of the site (upsert by key), if the site's policy lets it write there. */
    load(dataset: DatasetRef, target: LoadTarget): Promise<DataLoadOutputT> {
      return data.dataLoad({ ...target, createIfMissing: target.createIfMissing ?? false, objectId: dataset.objectId });
    },
    /** One database of the site into another: nothing leaves the site. */
    transfer(input: DataTransferInputT): Promise<DataTransferOutputT> {
      return data.dataTransfer(input);
    },
  };
}

/** The cloud: databases the cloud worker reaches, and the interpreter's dataset activities. */
export function cloud(tenantId: string, options: { taskQueue?: string } = {}) {
  const taskQueue = options.taskQueue ?? 'cloud';
  const data = proxyActivities<CloudActivities>(dataOptions(taskQueue));
  const steps = proxyActivities<CloudActivities & DefinitionCloudActivities>(interpreterOptions(taskQueue));
  return {
    async extract(database: string, table: TableRef, more: { columns?: string[]; keyColumns?: string[] } = {}) {
      const out = await data.cloudExtract({ tenantId, database, table, ...more, objectId: objectId() });
      const ref: DatasetRef = {
        objectId: out.objectId,
        rows: out.rowCount,
        ...(out.columns ? { columns: out.columns } : {}),
        writtenBy: 'cloud',
      };
      return ref;
    },
    load(dataset: DatasetRef, target: LoadTarget): Promise<DataLoadOutputT> {
      return data.cloudLoad({
        tenantId,
        ...target,
        createIfMissing: target.createIfMissing ?? false,
        objectId: dataset.objectId,
      });
    },
    /** Concatenates datasets (deduplicated by `dedupeKey`, first one wins). */
    merge(datasets: DatasetRef[], dedupeKey?: string[]): Promise<DatasetRef> {
      return steps.mergeDatasets({ tenantId, inputs: datasets, dedupeKey, outputObjectId: objectId() });
    },
    /** Parts of `size` records each. */
    split(dataset: DatasetRef, size: number): Promise<DatasetRef[]> {
      return steps.splitDataset({ tenantId, input: dataset, size, outputPrefix: `${objectId()}p` });
    },
    /** A transform of the definition model (JSONata mapping, filter, join...) over one or two datasets. */
    transform(op: TransformOp, left: DatasetRef, right?: DatasetRef): Promise<DatasetRef> {
      return steps.transformDataset({
        tenantId,
        transform: op,
        inputs: { left, ...(right ? { right } : {}) },
        outputObjectId: objectId(),
      });
    },
    /** A JSONata condition over a small JSON context. */
    condition(expression: string, context: unknown): Promise<boolean> {
      return steps.evaluateCondition({ expression, context });
    },
  };
}
