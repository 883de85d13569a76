import { assertTokenCovers, verifyBufferToken, type BufferTokenScope } from '@vansales/buffer';
import type { BufferGrant } from '@vansales/protocol';
import { bufferGrantPreparer } from '../src/agent-hub/buffer-grants';
import { createBufferAccess } from '../src/buffer-access';

const secret = Buffer.alloc(32, 7);
const prepare = bufferGrantPreparer(createBufferAccess({ tokenSecret: secret }));
const identity = { tenantId: 'acme', connectorId: 'c1', sessionId: 'session-0000000001' };

/** Whether the buffer routes would let this grant's token do `scope` on `objectId` (their own check). */
function opens(grant: BufferGrant, objectId: string, scope: BufferTokenScope): boolean {
  try {
    assertTokenCovers(verifyBufferToken(secret, grant.token), objectId, scope);
    return true;
  } catch {
    return false;
  }
}

describe('buffer grants the gateway adds to agent tasks', () => {
  it('gives a site transform a read grant per input and a write grant for its output, each for its object only', async () => {
    const prepared = (await prepare(identity, 'data.transform', {
      transform: { op: 'filter', where: 'x > 1' },
      inputs: { left: 'leftobj1', right: 'rightobj1' },
      outputObjectId: 'outobj01',
    })) as Record<string, BufferGrant>;
    const left = prepared.leftBuffer!;
    const right = prepared.rightBuffer!;
    const output = prepared.outputBuffer!;
    expect([left.scope, right.scope, output.scope]).toEqual(['read', 'read', 'write']);
    expect(opens(left, 'leftobj1', 'read')).toBe(true);
    expect(opens(right, 'rightobj1', 'read')).toBe(true);
    expect(opens(output, 'outobj01', 'write')).toBe(true);
    // A grant for one object opens no other, and an input's grant cannot write.
    for (const other of ['rightobj1', 'outobj01']) expect(opens(left, other, 'read')).toBe(false);
    expect(opens(left, 'leftobj1', 'write')).toBe(false);
    expect(opens(output, 'leftobj1', 'read')).toBe(false);
    expect(opens(output, 'outobj01', 'read')).toBe(false);
    expect(verifyBufferToken(secret, output.token)).toMatchObject({ tenantId: 'acme', connectorId: 'c1' });
    // A retry reads back what an earlier attempt committed: a read grant of the output, and of nothing else.
    const readBack = prepared.outputReadBuffer!;
    expect(readBack.scope).toBe('read');
    expect(opens(readBack, 'outobj01', 'read')).toBe(true);
    expect(opens(readBack, 'outobj01', 'write')).toBe(false);
    expect(opens(readBack, 'leftobj1', 'read')).toBe(false);
  });

  it('replaces or drops grants a workflow put in the input itself', async () => {
    const forged = { objectId: 'leftobj1', token: 'x'.repeat(20), scope: 'write', expiresAt: 'never' };
    const prepared = (await prepare(identity, 'data.transform', {
      transform: { op: 'filter', where: 'true' },
      inputs: { left: 'leftobj1' },
      outputObjectId: 'outobj01',
      leftBuffer: forged,
      rightBuffer: forged,
      outputReadBuffer: forged,
    })) as Record<string, unknown>;
    expect(prepared.leftBuffer).not.toEqual(forged);
    expect(prepared.outputReadBuffer).not.toEqual(forged);
    expect(prepared).not.toHaveProperty('rightBuffer');
  });

  it('still gives an extract one write grant for its object (one code path for every operation)', async () => {
    const prepared = (await prepare(identity, 'data.extract', { objectId: 'extract01' })) as { buffer: BufferGrant };
    expect(opens(prepared.buffer, 'extract01', 'write')).toBe(true);
    expect(opens(prepared.buffer, 'other0001', 'write')).toBe(false);
    expect(await prepare(identity, 'sql.query', { sql: 'select 1' })).toEqual({ sql: 'select 1' });
  });
});
