import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BufferKeyring, createLocalFolderStore, DataBuffer, newBufferKeySpec, newObjectId } from '@vansales/buffer';
import { readSpecObject } from '../src/services/site-spec-fetch';

/*
 * A large site specification comes back from the agent by reference: the gateway reads the buffer
 * object it named, and only that, within its size bound, the bytes matching the agent's hash. A
 * real buffer over a local folder (the embedded default store).
 */
describe('readSpecObject: a site specification read back from the buffer', () => {
  let dir: string;
  let buffer: DataBuffer;
  const T = 'spec-tenant';
  const text = JSON.stringify({ openapi: '3.0.3', info: { title: 'é big', version: '1' }, paths: {} }).repeat(3);
  const sha = (s: string) => createHash('sha256').update(s).digest('hex');

  /** The object as an agent writes it: the text in pieces, committed. */
  async function stored(content: string, tenantId = T): Promise<string> {
    const objectId = newObjectId();
    const bytes = Buffer.from(content);
    await buffer.createObject(tenantId, { objectId });
    const half = Math.floor(bytes.length / 2);
    await buffer.writeChunk(tenantId, objectId, 0, bytes.subarray(0, half), 0);
    await buffer.writeChunk(tenantId, objectId, 1, bytes.subarray(half), 0);
    await buffer.commit(tenantId, objectId, { schema: { format: 'api-specification' }, chunkCount: 2, rowCount: 0 });
    return objectId;
  }
  const refusal = (p: Promise<unknown>) =>
    p.then(
      () => 'read',
      (e: Error) => e.message,
    );

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vsc-spec-object-'));
    buffer = new DataBuffer({
      store: createLocalFolderStore(dir),
      keyring: BufferKeyring.fromSpec(newBufferKeySpec()),
    });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the text the agent stored, its size and hash checked', async () => {
    const objectId = await stored(text);
    const object = { objectId, bytes: Buffer.byteLength(text), sha256: sha(text) };
    expect(await readSpecObject(buffer, T, objectId, object, 1024 * 1024)).toBe(text);
  });

  it('refuses an object it did not ask for, another tenant’s, one past its bound, and bytes that do not match', async () => {
    const objectId = await stored(text);
    const object = { objectId, bytes: Buffer.byteLength(text), sha256: sha(text) };
    const other = await stored(text);
    expect(await refusal(readSpecObject(buffer, T, other, object, 1024 * 1024))).toMatch(/did not ask for/);
    // The same object id under another tenant leads nowhere.
    expect(await refusal(readSpecObject(buffer, 'other-tenant', objectId, object, 1024 * 1024))).toMatch(
      /could not be read: no buffer object .* for this tenant/,
    );
    expect(await refusal(readSpecObject(buffer, T, objectId, object, 64))).toMatch(
      /is \d+ bytes; this gateway registers at most 64 bytes/,
    );
    expect(
      await refusal(readSpecObject(buffer, T, objectId, { ...object, sha256: sha('another text') }, 1024 * 1024)),
    ).toMatch(/not the one the agent fetched/);
    expect(
      await refusal(readSpecObject(buffer, T, objectId, { ...object, bytes: object.bytes - 1 }, 1024 * 1024)),
    ).toMatch(/holds \d+ bytes, the agent said/);
  });
});
