import { BUFFER_ROUTES_PREFIX, BufferCommitBody, BufferGrant, bufferPaths } from '@vansales/protocol';

describe('the buffer HTTP contract', () => {
  it('names every route of an object under the prefix', () => {
    expect(bufferPaths.chunk('object-0001', 12)).toBe(`${BUFFER_ROUTES_PREFIX}/object-0001/chunks/12`);
    expect(bufferPaths.commit('object-0001')).toBe('/v1/buffer/objects/object-0001/commit');
    expect(bufferPaths.manifest('object-0001')).toBe('/v1/buffer/objects/object-0001/manifest');
  });

  it('checks a grant and a commit body at the boundary', () => {
    const grant = {
      objectId: 'object-0001',
      token: 'vbt_'.padEnd(40, 'x'),
      scope: 'read',
      expiresAt: '2030-01-01T00:00:00.000Z',
    };
    expect(BufferGrant.parse(grant)).toEqual(grant);
    expect(BufferGrant.safeParse({ ...grant, objectId: '../../etc' }).success).toBe(false);
    expect(BufferGrant.safeParse({ ...grant, scope: 'admin' }).success).toBe(false);
    expect(BufferCommitBody.safeParse({ chunkCount: 1, rowCount: 2 }).success).toBe(false); // schema is required
    expect(BufferCommitBody.safeParse({ schema: {}, chunkCount: -1, rowCount: 2 }).success).toBe(false);
  });
});
