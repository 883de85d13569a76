import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { OperationError } from '../src/operations/operation';
import { agentFor, capture, fakeGateway, until } from './fake-gateway';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';
const context = { workflowId: 'query-1', runId: 'r-1', activityId: '1', attempt: 2 };

describe("the agent's span of a task", () => {
  it('is a child of the trace context in the frame, records ids and outcome, never the statement', async () => {
    const memory = new InMemorySpanExporter();
    const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(memory)] }).getTracer('test');
    const sql = "SELECT * FROM customer WHERE email = 'alice@example.com'";
    const gateway = await fakeGateway((ws) => {
      const task = (taskId: string, extra: object) =>
        ws.send(JSON.stringify({ type: 'task', taskId, operation: 'sql.query', context, ...extra }));
      task('t-ok', { input: { database: 'erp', sql }, trace: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01` } });
      task('t-refused', { input: { database: 'erp', sql: 'DELETE FROM customer' } });
      // A malformed trace context refuses the frame (the task fails as bad input, the agent keeps serving).
      task('t-bad', { input: { database: 'erp', sql }, trace: { traceparent: `00-${TRACE_ID}-${PARENT_ID}` } });
    });
    const { log } = capture();
    const agent = agentFor(gateway.port, log, {
      tracer,
      operations: {
        'sql.query': (input) => {
          const { sql: statement } = input as { sql: string };
          if (statement.startsWith('DELETE')) throw new OperationError('SqlRefused', 'only reads', false);
          return Promise.resolve({ rows: [] });
        },
      },
    });
    agent.start();
    await until(() => memory.getFinishedSpans().length === 2 && gateway.received.some((f) => f.taskId === 't-bad'));
    await agent.stop();
    gateway.close();

    const spanOf = (taskId: string) => memory.getFinishedSpans().find((s) => s.attributes['vsc.task.id'] === taskId);
    const [ok, refused] = [spanOf('t-ok'), spanOf('t-refused')];
    expect(ok!.name).toBe('agent sql.query');
    expect(ok!.kind).toBe(SpanKind.SERVER);
    expect(ok!.spanContext().traceId).toBe(TRACE_ID);
    expect(ok!.parentSpanId).toBe(PARENT_ID);
    expect(ok!.attributes).toEqual({
      'vsc.operation': 'sql.query',
      'vsc.task.id': 't-ok',
      'vsc.attempt': 2,
      'vsc.workflow.id': 'query-1',
      'vsc.activity.id': '1',
      'vsc.database': 'erp',
      'vsc.outcome': 'ok',
    });
    // No trace context in the frame: a trace of its own.
    expect(refused!.spanContext().traceId).not.toBe(TRACE_ID);
    expect(refused!.parentSpanId).toBeUndefined();
    expect(refused!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'SqlRefused' });
    const recorded = memory
      .getFinishedSpans()
      .map((s) => ({ name: s.name, attributes: s.attributes, status: s.status }));
    expect(JSON.stringify(recorded)).not.toMatch(/alice|DELETE|only reads/);
    expect(gateway.received.find((f) => f.taskId === 't-bad')).toMatchObject({
      type: 'failure',
      errorType: 'BadInput',
    });
  });
});
