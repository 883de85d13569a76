import {
  MAX_SITE_API_CALL_RECORDS,
  type SiteApiCallT,
  type SiteApiCallsT,
  type SiteApiOperationT,
} from '@vansales/protocol';
import type { OperationCallFacts } from '@vansales/sdk-factory/runner';

const failed = (status: number) => status === 0 || status >= 400;

/**
 * The calls one attempt of a site step makes through its API operation, for the gateway's call
 * audit (issue 11). Only what the runner measures (status, sizes, duration) and when: never a
 * parameter, header, body or URL. Totals count every call; the records stop at `max`, and once full
 * a failed call takes the place of the latest successful one, so failures are the last dropped.
 */
export function createApiCallLog(
  operation: Pick<SiteApiOperationT, 'apiId' | 'version' | 'key'>,
  method: string,
  attempt: number,
  options: { max?: number; now?: () => number } = {},
) {
  const max = options.max ?? MAX_SITE_API_CALL_RECORDS;
  const now = options.now ?? Date.now;
  const calls: SiteApiCallT[] = [];
  const totals = { count: 0, failed: 0, requestBytes: 0, responseBytes: 0, durationMs: 0 };

  const keep = (call: SiteApiCallT) => {
    if (calls.length < max) return void calls.push(call);
    if (!failed(call.status)) return;
    for (let i = calls.length - 1; i >= 0; i -= 1)
      if (!failed(calls[i]!.status)) {
        calls.splice(i, 1);
        calls.push(call);
        return;
      }
  };

  return {
    /** The runner's `onCall`. */
    onCall(facts: OperationCallFacts): void {
      const durationMs = Math.max(0, Math.round(facts.durationMs));
      totals.count += 1;
      if (failed(facts.status)) totals.failed += 1;
      totals.requestBytes += facts.requestBytes;
      totals.responseBytes += facts.responseBytes;
      totals.durationMs += durationMs;
      keep({
        status: facts.status,
        requestBytes: facts.requestBytes,
        responseBytes: facts.responseBytes,
        durationMs,
        at: Math.max(0, Math.round(now() - durationMs)),
      });
    },
    report(): SiteApiCallsT {
      return {
        apiId: operation.apiId,
        version: operation.version,
        operationKey: operation.key,
        method,
        attempt,
        ...totals,
        calls: [...calls],
        dropped: totals.count - calls.length,
      };
    },
  };
}
export type ApiCallLog = ReturnType<typeof createApiCallLog>;
