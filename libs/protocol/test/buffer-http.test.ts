import {
  BUFFER_ROUTES_PREFIX,
  BufferCommitBody,
  BufferGrant,
  bufferPaths,
  encodeFollowFrame,
  FollowStreamError,
  readFollowFrames,
  type FollowFrame,
} from '@vansales/protocol';

async function* pieces(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}
const collect = async (source: AsyncIterable<Buffer>) => {
  const out: { frame: FollowFrame; body?: string }[] = [];
  for await (const { frame, body } of readFollowFrames(source))
    out.push(body ? { frame, body: body.toString() } : { frame });
  return out;
};

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

  it('reads follow frames whatever the pieces the socket hands over, and refuses a cut or forged stream', async () => {
    const wire = Buffer.concat([
      ...encodeFollowFrame({ t: 'schema', schema: { columns: [] } }),
      ...encodeFollowFrame({ t: 'chunk', index: 0, rows: 2, bytes: 5 }, Buffer.from('hello')),
      ...encodeFollowFrame({ t: 'wait' }),
      ...encodeFollowFrame({ t: 'chunk', index: 1, rows: 0, bytes: 0 }, Buffer.alloc(0)),
      ...encodeFollowFrame({ t: 'sealed', chunkCount: 2, rowCount: 2 }),
    ]);
    const expected = [
      { frame: { t: 'schema', schema: { columns: [] } } },
      { frame: { t: 'chunk', index: 0, rows: 2, bytes: 5 }, body: 'hello' },
      { frame: { t: 'wait' } },
      { frame: { t: 'chunk', index: 1, rows: 0, bytes: 0 }, body: '' },
      { frame: { t: 'sealed', chunkCount: 2, rowCount: 2 } },
    ];
    for (const size of [1, 3, 7, wire.length]) expect(await collect(pieces(wire, size))).toEqual(expected);

    await expect(collect(pieces(wire.subarray(0, wire.length - 2), 4))).rejects.toBeInstanceOf(FollowStreamError);
    const forged = Buffer.concat(encodeFollowFrame({ t: 'chunk', index: -1, rows: 0, bytes: 0 } as never));
    await expect(collect(pieces(forged, 64))).rejects.toThrow(/malformed follow frame/);
    const huge = Buffer.alloc(8);
    huge.writeUInt32BE(0xffffffff);
    await expect(collect(pieces(huge, 8))).rejects.toThrow(/follow frame of/);
  });
});
