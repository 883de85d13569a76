import { AgentFrame, parseFrame } from '@vansales/protocol';
import { failureFrame } from '../src/agent';

/*
 * A failure frame the gateway refuses never reaches Temporal: the task waits for its timeout and
 * is retried. An error message longer than the protocol allows (a hostile 100 KB type name echoed
 * by a refusal did it) must still give a frame the gateway accepts, saying it was cut.
 */
describe('failure frames fit the protocol whatever the error says', () => {
  it('cuts a message longer than the frame allows, and says so', () => {
    const frame = failureFrame('task-1', {
      errorType: 'BadInput',
      message: `x${'a'.repeat(100_000)}`,
      retryable: false,
    });
    const parsed = parseFrame(AgentFrame, JSON.stringify(frame));
    expect(parsed.ok).toBe(true);
    expect((frame as { message: string }).message).toMatch(/^xa+\.\.\. \(100001 characters, cut\)$/);
  });

  it('keeps a message that fits as it is', () => {
    const frame = failureFrame('task-1', { errorType: 'BadInput', message: 'no such table', retryable: true });
    expect(frame).toEqual({
      type: 'failure',
      taskId: 'task-1',
      errorType: 'BadInput',
      message: 'no such table',
      retryable: true,
    });
    expect(parseFrame(AgentFrame, JSON.stringify(frame)).ok).toBe(true);
  });
});
