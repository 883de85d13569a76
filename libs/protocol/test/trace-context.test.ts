import { GatewayFrame, parseFrame, TraceContext } from '@vansales/protocol';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

const task = (trace?: unknown) =>
  JSON.stringify({
    type: 'task',
    taskId: 't1',
    operation: 'sql.query',
    input: null,
    context: { workflowId: 'w', runId: 'r', activityId: '1', attempt: 1 },
    ...(trace === undefined ? {} : { trace }),
  });

describe("the task frame's W3C trace context", () => {
  it('is optional: a task without one parses as before', () => {
    expect(parseFrame(GatewayFrame, task())).toMatchObject({ ok: true });
  });

  it('carries a valid traceparent and tracestate through', () => {
    const trace = { traceparent: TRACEPARENT, tracestate: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE' };
    expect(parseFrame(GatewayFrame, task(trace))).toMatchObject({ ok: true, frame: { trace } });
  });

  it.each([
    ['upper-case hex', TRACEPARENT.toUpperCase()],
    ['an unknown version', TRACEPARENT.replace(/^00/, '01')],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`],
    ['an all-zero parent id', `00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`],
    ['a short trace id', '00-4bf92f35-00f067aa0ba902b7-01'],
    ['extra text', `${TRACEPARENT}-x`],
  ])('refuses a traceparent with %s, saying which field', (_what, traceparent) => {
    const parsed = parseFrame(GatewayFrame, task({ traceparent }));
    expect(parsed).toMatchObject({ ok: false });
    expect(JSON.stringify(parsed)).toMatch(/traceparent/);
  });

  it.each([
    ['no key=value', 'garbage'],
    ['a newline', 'a=b\nc=d'],
    ['more than 512 characters', `a=${'b'.repeat(600)}`],
    ['more than 32 members', Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(',')],
  ])('refuses a tracestate with %s', (_what, tracestate) => {
    expect(TraceContext.safeParse({ traceparent: TRACEPARENT, tracestate }).success).toBe(false);
  });
});
