import { AgentFrame, GatewayFrame, parseFrame } from '@vansales/protocol';

describe('parseFrame', () => {
  it('accepts a valid hello', () => {
    const raw = JSON.stringify({
      type: 'hello',
      protocolVersion: 1,
      agentVersion: '0.1.0',
      machineId: 'abc',
      capabilities: ['sql.query'],
      concurrency: 4,
      databases: ['erp'],
    });
    const parsed = parseFrame(AgentFrame, raw);
    expect(parsed).toEqual({ ok: true, frame: JSON.parse(raw) });
  });

  it('refuses a frame over the size limit before parsing it', () => {
    const parsed = parseFrame(AgentFrame, Buffer.alloc(2048, 'a'), 1024);
    expect(parsed).toEqual({
      ok: false,
      code: 'frame-too-large',
      message: 'frame of 2048 bytes exceeds the 1024-byte limit',
    });
  });

  it('refuses text that is not JSON', () => {
    expect(parseFrame(AgentFrame, '{"type":')).toMatchObject({ ok: false, code: 'malformed-json' });
  });

  it('refuses an unknown frame type and names where the frame is wrong', () => {
    expect(parseFrame(AgentFrame, '{"type":"nope"}')).toMatchObject({ ok: false, code: 'invalid-frame' });
    const bad = parseFrame(
      AgentFrame,
      JSON.stringify({ type: 'failure', taskId: 't', errorType: 'X', message: 'm', retryable: 'yes' }),
    );
    expect(bad).toMatchObject({ ok: false, code: 'invalid-frame' });
    expect(!bad.ok && bad.message).toMatch(/retryable/);
  });

  it('keeps the two directions apart: an agent cannot send a task', () => {
    const task = JSON.stringify({
      type: 'task',
      taskId: 't',
      operation: 'sql.query',
      input: {},
      context: { workflowId: 'w', runId: 'r', activityId: 'a', attempt: 1 },
    });
    expect(parseFrame(GatewayFrame, task).ok).toBe(true);
    expect(parseFrame(AgentFrame, task).ok).toBe(false);
  });
});
