import { FailureFrame, ResultFrame, SiteApiCalls } from '@vansales/protocol';
import { failureFrame } from '../src/agent';
import { createApiCallLog } from '../src/operations/api-call-log';

const operation = { apiId: 'erp', version: 3, key: 'listCustomers' };

describe('the call log of a site step', () => {
  it('reports what the runner measured, with the task attempt, and nothing else', () => {
    let clock = 10_000;
    const log = createApiCallLog(operation, 'GET', 2, { now: () => clock });
    log.onCall({ status: 200, requestBytes: 0, responseBytes: 512, durationMs: 40.4 });
    clock += 100;
    log.onCall({ status: 0, requestBytes: 12, responseBytes: 0, durationMs: 7 });
    const report = log.report();
    expect(SiteApiCalls.parse(report)).toEqual(report);
    expect(report).toEqual({
      apiId: 'erp',
      version: 3,
      operationKey: 'listCustomers',
      method: 'GET',
      attempt: 2,
      count: 2,
      failed: 1,
      requestBytes: 12,
      responseBytes: 512,
      durationMs: 47,
      calls: [
        { status: 200, requestBytes: 0, responseBytes: 512, durationMs: 40, at: 9960 },
        { status: 0, requestBytes: 12, responseBytes: 0, durationMs: 7, at: 10_093 },
      ],
      dropped: 0,
    });
  });

  it('stays bounded: past its records it counts, and a failure replaces the latest success', () => {
    const log = createApiCallLog(operation, 'POST', 1, { max: 3 });
    for (let i = 0; i < 1000; i += 1) log.onCall({ status: 201, requestBytes: 10, responseBytes: 2, durationMs: 1 });
    log.onCall({ status: 503, requestBytes: 10, responseBytes: 0, durationMs: 1 });
    log.onCall({ status: 422, requestBytes: 10, responseBytes: 5, durationMs: 1 });
    const report = log.report();
    expect(report.calls.map((c) => c.status)).toEqual([201, 503, 422]);
    expect(report).toMatchObject({ count: 1002, failed: 2, dropped: 999, requestBytes: 10_020 });
    // Only failures left to replace: a further failure is counted, not listed.
    log.onCall({ status: 500, requestBytes: 1, responseBytes: 0, durationMs: 1 });
    log.onCall({ status: 500, requestBytes: 1, responseBytes: 0, durationMs: 1 });
    expect(log.report().calls.map((c) => c.status)).toEqual([503, 422, 500]);
    expect(log.report()).toMatchObject({ count: 1004, failed: 4, dropped: 1001 });
  });

  it('rides beside a failure as beside a result, both frames valid', () => {
    const log = createApiCallLog(operation, 'GET', 1);
    log.onCall({ status: 500, requestBytes: 0, responseBytes: 30, durationMs: 3 });
    const frame = failureFrame(
      't1',
      { errorType: 'http-unavailable', message: 'HTTP 500', retryable: true },
      log.report(),
    );
    expect(FailureFrame.parse(frame)).toMatchObject({ apiCalls: { count: 1, calls: [{ status: 500 }] } });
    expect(ResultFrame.safeParse({ type: 'result', taskId: 't1', output: {}, apiCalls: log.report() }).success).toBe(
      true,
    );
  });
});
