import { sql } from 'kysely';
import { z } from 'zod';
import type { MetadataDb } from './open-database';

/**
 * One API operation call, as audited (0015). The shape is fixed: the runner's callers (cloud
 * activities, the agent through the gateway) record it through an injected callback. There is no
 * field for parameters or bodies, on purpose: what a call carried never reaches the audit.
 */
export const ApiCallRecord = z.object({
  tenantId: z.string().min(1).max(100),
  definitionId: z.string().min(1).max(200).optional(),
  runId: z.string().min(1).max(300).optional(),
  stepId: z.string().min(1).max(200).optional(),
  apiId: z.string().min(1).max(100),
  version: z.number().int().min(1).max(2_147_483_647),
  operationKey: z.string().min(1).max(300),
  side: z.enum(['cloud', 'site']),
  connectorId: z.string().min(1).max(100).optional(),
  /** The answer's HTTP status; 0 when no answer came (refused by the egress guard, timed out). */
  status: z.number().int().min(0).max(999),
  requestBytes: z.number().int().min(0),
  responseBytes: z.number().int().min(0),
  durationMs: z.number().int().min(0).max(2_147_483_647),
  /** When the call started; the time of recording when absent. */
  at: z.date().optional(),
});
export type ApiCallRecord = z.input<typeof ApiCallRecord>;
export type StoredApiCall = Omit<z.infer<typeof ApiCallRecord>, 'at'> & { id: string; at: Date };

export interface ApiCallFilter {
  apiId?: string;
  operationKey?: string;
  definitionId?: string;
  runId?: string;
  side?: 'cloud' | 'site';
  connectorId?: string;
  /** Only failures: no answer, or a status of 400 or more. */
  failedOnly?: boolean;
  since?: Date;
  until?: Date;
}

/** Where a page ended: the (at, id) of its last row, opaque to callers. */
const encodeCursor = (at: Date, id: string) => Buffer.from(`${at.toISOString()}|${id}`, 'utf8').toString('base64url');
function decodeCursor(cursor: string): { at: Date; id: string } | undefined {
  const [at, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const date = at ? new Date(at) : undefined;
  return date && !Number.isNaN(date.getTime()) && id && /^\d{1,19}$/.test(id) ? { at: date, id } : undefined;
}

export class ApiCallCursorError extends Error {
  override name = 'ApiCallCursorError';
}

/** The call audit: appended by whoever runs an operation, listed per tenant, newest first. */
export function createApiCallRepository(db: MetadataDb) {
  const row = (input: ApiCallRecord) => {
    const r = ApiCallRecord.parse(input);
    return {
      tenant_id: r.tenantId,
      definition_id: r.definitionId ?? null,
      run_id: r.runId ?? null,
      step_id: r.stepId ?? null,
      api_id: r.apiId,
      version: r.version,
      operation_key: r.operationKey,
      side: r.side,
      connector_id: r.connectorId ?? null,
      status: r.status,
      request_bytes: r.requestBytes,
      response_bytes: r.responseBytes,
      duration_ms: r.durationMs,
      // Set here, to the millisecond: the page cursor carries milliseconds (now() has microseconds).
      at: r.at ?? new Date(),
    };
  };
  return {
    /** Throws a ZodError naming the field when the record is not one (nothing else is stored). */
    async recordApiCall(input: ApiCallRecord): Promise<void> {
      await db.insertInto('api_calls').values(row(input)).execute();
    },

    /**
     * Several calls in one statement (a site step's report: up to hundreds at once). All or none:
     * one record that is not one throws its ZodError before anything is stored.
     */
    async recordApiCalls(inputs: readonly ApiCallRecord[]): Promise<void> {
      if (inputs.length === 0) return;
      await db.insertInto('api_calls').values(inputs.map(row)).execute();
    },

    /** One page of a tenant's calls, newest first; `next` continues after its last row. */
    async listApiCalls(
      tenantId: string,
      filter: ApiCallFilter = {},
      page: { limit?: number; cursor?: string } = {},
    ): Promise<{ calls: StoredApiCall[]; next?: string }> {
      const limit = Math.min(Math.max(page.limit ?? 100, 1), 1000);
      let q = db.selectFrom('api_calls').selectAll().where('tenant_id', '=', tenantId);
      if (filter.apiId) q = q.where('api_id', '=', filter.apiId);
      if (filter.operationKey) q = q.where('operation_key', '=', filter.operationKey);
      if (filter.definitionId) q = q.where('definition_id', '=', filter.definitionId);
      if (filter.runId) q = q.where('run_id', '=', filter.runId);
      if (filter.side) q = q.where('side', '=', filter.side);
      if (filter.connectorId) q = q.where('connector_id', '=', filter.connectorId);
      if (filter.failedOnly) q = q.where((eb) => eb.or([eb('status', '=', 0), eb('status', '>=', 400)]));
      if (filter.since) q = q.where('at', '>=', filter.since);
      if (filter.until) q = q.where('at', '<', filter.until);
      if (page.cursor) {
        const after = decodeCursor(page.cursor);
        if (!after) throw new ApiCallCursorError('the cursor is not one this listing made: start from the first page');
        q = q.where(sql<boolean>`(at, id) < (${after.at}, ${after.id}::bigint)`);
      }
      const rows = await q
        .orderBy('at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit + 1)
        .execute();
      const calls = rows.slice(0, limit).map((r): StoredApiCall => ({
        id: String(r.id),
        tenantId: r.tenant_id,
        definitionId: r.definition_id ?? undefined,
        runId: r.run_id ?? undefined,
        stepId: r.step_id ?? undefined,
        apiId: r.api_id,
        version: Number(r.version),
        operationKey: r.operation_key,
        side: r.side as 'cloud' | 'site',
        connectorId: r.connector_id ?? undefined,
        status: Number(r.status),
        requestBytes: Number(r.request_bytes),
        responseBytes: Number(r.response_bytes),
        durationMs: Number(r.duration_ms),
        at: new Date(r.at),
      }));
      const last = calls[calls.length - 1];
      return { calls, next: rows.length > limit && last ? encodeCursor(last.at, last.id) : undefined };
    },
  };
}
export type ApiCallRepository = ReturnType<typeof createApiCallRepository>;
