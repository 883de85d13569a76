import { createHash, randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { DeleteBucketCommand, DeleteObjectsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import {
  BufferErrorCode,
  issueBufferToken,
  newObjectId,
  TENANT_ID_PATTERN as BUFFER_TENANT_ID_PATTERN,
} from '@vansales/buffer';
import {
  BufferHeader,
  bufferPaths,
  CHUNK_CODECS_ACCEPTED,
  readFollowFrames,
  TENANT_ID_PATTERN,
  type BufferGrant,
  type FollowFrame,
} from '@vansales/protocol';
import { chunkCodec, decodeChunk, encodeChunk } from '@vansales/dataflow';
import { BUFFER_HTTP_STATUS } from '@vansales/gateway';
import { extractStepWorkflow } from '@vansales/workflows';
import {
  sakilaDatabase,
  sakilaReader,
  services,
  startPlatform,
  until,
  untilExpired,
  type Platform,
} from './support/harness';

const T = 'acme';
const CONNECTOR = '0b7f6c1e-5d2a-4a8e-9c3b-2f1e0d9c8b7a';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('buffer routes', () => {
  let platform: Platform;
  beforeAll(async () => {
    platform = await startPlatform();
  });
  afterAll(async () => platform?.close());

  const issued: string[] = [];
  const grant = (scope: 'read' | 'write', objectId?: string, tenantId = T): BufferGrant => {
    const g = platform.gateway.grantBufferAccess({ tenantId, connectorId: CONNECTOR, objectId, scope });
    issued.push(g.token);
    return g;
  };
  const inject = (
    method: 'GET' | 'PUT' | 'POST',
    url: string,
    token: string | undefined,
    body?: Buffer | object,
    headers: Record<string, string> = {},
  ) =>
    platform.gateway.app.inject({
      method,
      url,
      payload: body as never,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(Buffer.isBuffer(body) ? { 'content-type': 'application/octet-stream' } : {}),
        ...headers,
      },
    });
  const put = (g: BufferGrant, index: number, bytes: Buffer, rows: number, token = g.token) =>
    inject('PUT', `${bufferPaths.object(g.objectId)}/chunks/${index}`, token, bytes, { 'x-vsc-rows': String(rows) });
  const commit = (g: BufferGrant, body: object, token = g.token) =>
    inject('POST', `${bufferPaths.object(g.objectId)}/commit`, token, body);
  const errorOf = (res: { statusCode: number; json: () => unknown }) => ({
    status: res.statusCode,
    ...(res.json() as { error: { code: string; message: string; reason?: string } }).error,
  });

  /** A committed object of two chunks, written through the routes. */
  async function written(tenantId = T) {
    const w = grant('write', undefined, tenantId);
    const chunks = [randomBytes(50_000), randomBytes(20_000)];
    for (let i = 0; i < chunks.length; i++) expect((await put(w, i, chunks[i]!, 10 * (i + 1))).statusCode).toBe(200);
    expect((await commit(w, { schema: { columns: ['id'] }, chunkCount: 2, rowCount: 30 })).statusCode).toBe(200);
    return { w, r: grant('read', w.objectId, tenantId), chunks };
  }

  it('grants object-scoped access with a path under the gateway', () => {
    const g = grant('write');
    expect(g).toEqual({
      objectId: g.objectId,
      scope: 'write',
      token: expect.stringMatching(/^vbt_/),
      expiresAt: expect.any(String),
    });
    expect(bufferPaths.chunk(g.objectId, 3)).toBe(`/v1/buffer/objects/${g.objectId}/chunks/3`);
    expect(Date.parse(g.expiresAt)).toBeGreaterThan(Date.now());
    expect(() => grant('read')).toThrow(/objectId/);
  });

  it('writes, commits and reads an object (created on its first chunk)', async () => {
    const w = grant('write');
    const chunks = [randomBytes(300_000), randomBytes(1), Buffer.alloc(0)];
    const res0 = await put(w, 0, chunks[0]!, 7);
    expect(res0.statusCode).toBe(200);
    expect(res0.json()).toEqual({ index: 0, rows: 7, bytes: 300_000, sha256: sha(chunks[0]!) });
    // A retried writer rewrites a chunk: the last write counts.
    await put(w, 1, randomBytes(10), 99);
    await put(w, 1, chunks[1]!, 1);
    await put(w, 2, chunks[2]!, 0);
    const body = {
      schema: { columns: [{ name: 'id', type: 'int' }] },
      chunkCount: 3,
      rowCount: 8,
      meta: { cursor: { column: 'id', max: 8 } },
    };
    const committed = await commit(w, body);
    expect(committed.statusCode).toBe(200);
    expect(committed.json()).toMatchObject({ objectId: w.objectId, rowCount: 8, chunkCount: 3, bytes: 300_001 });
    expect((await commit(w, body)).statusCode).toBe(200); // the same commit again

    const r = grant('read', w.objectId);
    const manifest = await inject('GET', `${bufferPaths.object(r.objectId)}/manifest`, r.token);
    expect(manifest.statusCode).toBe(200);
    expect(manifest.json()).toEqual({
      objectId: w.objectId,
      schema: body.schema,
      rowCount: 8,
      chunks: chunks.map((c, index) => ({ index, rows: [7, 1, 0][index], bytes: c.length, sha256: sha(c) })),
      createdAt: expect.any(String),
      committedAt: expect.any(String),
      expiresAt: expect.any(String),
      meta: body.meta,
    });
    for (let i = 0; i < chunks.length; i++) {
      const res = await inject('GET', `${bufferPaths.object(r.objectId)}/chunks/${i}`, r.token);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe('application/octet-stream');
      expect(res.rawPayload.equals(chunks[i]!)).toBe(true);
    }
    expect(errorOf(await inject('GET', `${bufferPaths.object(r.objectId)}/chunks/3`, r.token))).toMatchObject({
      status: 404,
      code: 'NOT_FOUND',
    });

    expect(errorOf(await commit(w, { ...body, rowCount: 9 }))).toMatchObject({
      status: 409,
      code: 'ALREADY_COMMITTED',
    });
    expect(errorOf(await put(w, 0, chunks[0]!, 7))).toMatchObject({ status: 409, code: 'ALREADY_COMMITTED' });
  });

  it('refuses missing, malformed, forged and expired tokens with 401', async () => {
    const { r } = await written();
    const url = `${bufferPaths.object(r.objectId)}/manifest`;
    expect(errorOf(await inject('GET', url, undefined))).toMatchObject({
      status: 401,
      code: 'UNAUTHORIZED',
      reason: 'missing',
    });
    // Never from the query string (which the request log shows: that is why).
    const inQuery = platform.gateway.grantBufferAccess({
      tenantId: T,
      connectorId: CONNECTOR,
      objectId: r.objectId,
      scope: 'read',
    }).token;
    expect(errorOf(await inject('GET', `${url}?token=${inQuery}`, undefined))).toMatchObject({
      status: 401,
      code: 'UNAUTHORIZED',
    });
    // ...and the request log keeps the path without the query string.
    expect(platform.logs.lines.some((l) => l.includes(`${url}?[redacted]`))).toBe(true);
    expect(platform.logs.lines.some((l) => l.includes(inQuery))).toBe(false);
    expect(errorOf(await inject('GET', url, 'vbt_nonsense'))).toMatchObject({ status: 401, reason: 'malformed' });
    expect(errorOf(await inject('GET', url, platform.adminToken))).toMatchObject({ status: 401, reason: 'malformed' });
    const forged = issueBufferToken(randomBytes(32), {
      tenantId: T,
      connectorId: CONNECTOR,
      objectId: r.objectId,
      scope: 'read',
      ttlSeconds: 60,
    });
    expect(errorOf(await inject('GET', url, forged))).toMatchObject({ status: 401, reason: 'signature' });
    const expired = issueBufferToken(
      platform.bufferTokenSecret,
      { tenantId: T, connectorId: CONNECTOR, objectId: r.objectId, scope: 'read', ttlSeconds: 60 },
      Date.now() - 120_000,
    );
    expect(errorOf(await inject('GET', url, expired))).toMatchObject({ status: 401, reason: 'expired' });
    // A token issued with the configured secret outside this gateway instance (another node) works.
    const own = issueBufferToken(platform.bufferTokenSecret, {
      tenantId: T,
      connectorId: CONNECTOR,
      objectId: r.objectId,
      scope: 'read',
      ttlSeconds: 60,
    });
    expect((await inject('GET', url, own)).statusCode).toBe(200);
  });

  it('refuses a token for another object or scope with 403, and never reaches another tenant', async () => {
    const { w, r } = await written();
    const other = grant('read', newObjectId());
    expect(errorOf(await inject('GET', `${bufferPaths.object(r.objectId)}/manifest`, other.token))).toMatchObject({
      status: 403,
      code: 'FORBIDDEN',
      reason: 'object',
    });
    expect(errorOf(await inject('GET', `${bufferPaths.object(r.objectId)}/chunks/0`, w.token))).toMatchObject({
      status: 403,
      code: 'FORBIDDEN',
      reason: 'scope',
    });
    expect(errorOf(await put(r, 5, Buffer.from('x'), 1, r.token))).toMatchObject({ status: 403, reason: 'scope' });
    expect(errorOf(await commit(r, { schema: {}, chunkCount: 0, rowCount: 0 }))).toMatchObject({
      status: 403,
      reason: 'scope',
    });
    // Another tenant's token naming this object id: it does not exist for them.
    const intruder = grant('read', r.objectId, 'globex');
    expect(errorOf(await inject('GET', `${bufferPaths.object(r.objectId)}/manifest`, intruder.token))).toMatchObject({
      status: 404,
      code: 'NOT_FOUND',
    });
    expect(errorOf(await inject('GET', `${bufferPaths.object(r.objectId)}/chunks/0`, intruder.token))).toMatchObject({
      status: 404,
    });
    // …even when its files are copied into their folder in the store.
    cpSync(
      join(platform.bufferDir, 'buffer', T, r.objectId),
      join(platform.bufferDir, 'buffer', 'globex', r.objectId),
      { recursive: true },
    );
    expect(errorOf(await inject('GET', `${bufferPaths.object(r.objectId)}/manifest`, intruder.token))).toMatchObject({
      status: 403,
      code: 'WRONG_TENANT',
    });
    const intruderWrite = grant('write', r.objectId, 'globex');
    expect(errorOf(await put(intruderWrite, 0, Buffer.from('x'), 1))).toMatchObject({
      status: 403,
      code: 'WRONG_TENANT',
    });
  });

  it('answers bad requests, size limits and unfinished objects', async () => {
    const w = grant('write');
    expect(
      errorOf(await inject('PUT', `${bufferPaths.object(w.objectId)}/chunks/0`, w.token, Buffer.from('x'))),
    ).toMatchObject({ status: 400 }); // no x-vsc-rows
    expect(errorOf(await put(w, 0, Buffer.from('x'), -1))).toMatchObject({ status: 400 });
    expect(
      errorOf(
        await inject(
          'PUT',
          `${bufferPaths.object(w.objectId)}/chunks/0`,
          w.token,
          { not: 'bytes' },
          { 'x-vsc-rows': '1' },
        ),
      ),
    ).toMatchObject({ status: 400, code: 'BAD_INPUT' });
    expect(
      (
        await inject('PUT', `${bufferPaths.object(w.objectId)}/chunks/0`, w.token, Buffer.from('x'), {
          'x-vsc-rows': '1',
          'content-type': 'application/x-parquet',
        })
      ).statusCode,
    ).toBe(415);
    expect(errorOf(await put(w, 100_000, Buffer.from('x'), 1))).toMatchObject({ status: 400 });
    const big = await put(w, 0, Buffer.alloc(platform.gateway.buffer.maxChunkBytes + 1), 1);
    expect(errorOf(big)).toMatchObject({ status: 413, code: 'TOO_LARGE' });
    await put(w, 0, Buffer.alloc(platform.gateway.buffer.maxChunkBytes), 1);
    expect(errorOf(await commit(w, { schema: {}, chunkCount: 2, rowCount: 1 }))).toMatchObject({
      status: 400,
      code: 'BAD_INPUT',
    });
    expect(errorOf(await commit(w, { chunkCount: 1, rowCount: 1 }))).toMatchObject({ status: 400 });
    const r = grant('read', w.objectId);
    expect(errorOf(await inject('GET', `${bufferPaths.object(r.objectId)}/manifest`, r.token))).toMatchObject({
      status: 409,
      code: 'NOT_COMMITTED',
    });
    const none = grant('read', newObjectId());
    expect(errorOf(await inject('GET', `${bufferPaths.object(none.objectId)}/manifest`, none.token))).toMatchObject({
      status: 404,
      code: 'NOT_FOUND',
    });
  });

  it('answers 422 for tampered or truncated chunks and 410 for expired objects', async () => {
    const { r } = await written();
    const file = (i: number) => join(platform.bufferDir, 'buffer', T, r.objectId, `chunk-00000${i}.bin`);
    const c0 = readFileSync(file(0));
    c0[c0.length - 30]! ^= 1;
    writeFileSync(file(0), c0);
    expect(errorOf(await inject('GET', `${bufferPaths.object(r.objectId)}/chunks/0`, r.token))).toMatchObject({
      status: 422,
      code: 'TAMPERED',
    });
    writeFileSync(file(1), readFileSync(file(1)).subarray(0, 1000));
    expect(errorOf(await inject('GET', `${bufferPaths.object(r.objectId)}/chunks/1`, r.token))).toMatchObject({
      status: 422,
      code: 'TRUNCATED',
    });

    const objectId = newObjectId();
    await platform.gateway.buffer.createObject(T, { objectId, ttlSeconds: 1 });
    await untilExpired(platform.gateway.buffer, T, objectId);
    const w = grant('write', objectId);
    expect(errorOf(await put(w, 0, Buffer.from('late'), 1))).toMatchObject({ status: 410, code: 'EXPIRED' });
    expect(
      errorOf(await inject('GET', `${bufferPaths.object(w.objectId)}/manifest`, grant('read', objectId).token)),
    ).toMatchObject({ status: 410 });
  });

  it('maps every buffer error code to a status', () => {
    expect(Object.keys(BUFFER_HTTP_STATUS).sort()).toEqual(Object.values(BufferErrorCode).sort());
    // The buffer's own copy of the tenant id pattern is the protocol's.
    expect(BUFFER_TENANT_ID_PATTERN.source).toBe(TENANT_ID_PATTERN.source);
  });

  it('publishes the schema before the first chunk with a write grant for that object only', async () => {
    const schema = { columns: ['id'], keyColumns: ['id'] };
    const publish = (g: BufferGrant, body: object, path = bufferPaths.schema(g.objectId)) =>
      inject('PUT', path, g.token, body);
    const w = grant('write');
    // The object is created by its schema, which a follower reads before any chunk exists.
    expect((await publish(w, { schema })).statusCode).toBe(204);
    expect((await publish(w, { schema })).statusCode).toBe(204); // a retried extract publishes it again
    const follower = platform.gateway.buffer.followObject(T, w.objectId);
    expect(await follower.schema()).toEqual(schema);
    expect(errorOf(await publish(w, { schema: { columns: ['other'] } }))).toMatchObject({
      status: 400,
      code: 'BAD_INPUT',
    });
    expect(errorOf(await publish(w, {}))).toMatchObject({ status: 400 });
    // A read grant of the object, or a write grant of another object, cannot publish it.
    expect(errorOf(await publish(grant('read', w.objectId), { schema }))).toMatchObject({
      status: 403,
      reason: 'scope',
    });
    expect(errorOf(await publish(grant('write'), { schema }, bufferPaths.schema(w.objectId)))).toMatchObject({
      status: 403,
      reason: 'object',
    });
    // Once committed, the schema is the manifest's.
    expect((await put(w, 0, randomBytes(100), 1)).statusCode).toBe(200);
    expect((await commit(w, { schema, chunkCount: 1, rowCount: 1 })).statusCode).toBe(200);
    expect(errorOf(await publish(w, { schema }))).toMatchObject({ status: 409, code: 'ALREADY_COMMITTED' });
  });

  /** Opens `GET …/follow` over real HTTP (a stream inject cannot give) and reads its frames as they come. */
  const follow = async (objectId: string, token: string, headers: Record<string, string> = {}) => {
    const address = platform.gateway.app.server.address() as { port: number };
    const res = await fetch(`http://127.0.0.1:${address.port}${bufferPaths.follow(objectId)}`, {
      headers: { authorization: `Bearer ${token}`, ...headers },
    });
    if (res.status !== 200)
      return { status: res.status, error: ((await res.json()) as { error: { reason?: string } }).error };
    const body = res.body!;
    async function* bytes() {
      for await (const part of body) yield Buffer.from(part);
    }
    return { status: 200, frames: readFollowFrames(bytes())[Symbol.asyncIterator]() };
  };
  const nextFrame = async (frames: AsyncIterator<{ frame: FollowFrame; body?: Buffer }> | undefined) => {
    const step = await frames!.next();
    return step.done ? undefined : step.value;
  };

  it('follows an object while it is written, with a read grant for that object only', async () => {
    const schema = { columns: ['id'], keyColumns: ['id'] };
    const w = grant('write');
    expect((await inject('PUT', bufferPaths.schema(w.objectId), w.token, { schema })).statusCode).toBe(204);
    const chunks = [randomBytes(70_000), randomBytes(30_000)];
    expect((await put(w, 0, chunks[0]!, 7)).statusCode).toBe(200);

    // A grant for another object never follows this one, whatever its scope; a write grant does not either.
    const other = grant('write');
    expect(await follow(w.objectId, grant('read', other.objectId).token)).toMatchObject({
      status: 403,
      error: { reason: 'object' },
    });
    expect(await follow(w.objectId, w.token)).toMatchObject({ status: 403, error: { reason: 'scope' } });
    // The same object id in another tenant is another object: nothing to follow there.
    const elsewhere = await follow(w.objectId, grant('read', w.objectId, 'other-tenant').token);
    expect(await nextFrame(elsewhere.frames)).toMatchObject({ frame: { t: 'error', code: 'NOT_FOUND', status: 404 } });

    const followed = await follow(w.objectId, grant('read', w.objectId).token);
    expect(await nextFrame(followed.frames)).toEqual({ frame: { t: 'schema', schema } });
    const first = await nextFrame(followed.frames);
    expect(first?.frame).toEqual({ t: 'chunk', index: 0, rows: 7, bytes: chunks[0]!.length });
    expect(first?.body?.equals(chunks[0]!)).toBe(true);
    // Chunk 0 reached the reader before the object was committed: the manifest is not there yet.
    await expect(platform.gateway.buffer.readManifest(T, w.objectId)).rejects.toMatchObject({
      code: BufferErrorCode.notCommitted,
    });
    expect((await put(w, 1, chunks[1]!, 3)).statusCode).toBe(200);
    expect((await commit(w, { schema, chunkCount: 2, rowCount: 10 })).statusCode).toBe(200);
    const second = await nextFrame(followed.frames);
    expect(second?.body?.equals(chunks[1]!)).toBe(true);
    expect(await nextFrame(followed.frames)).toEqual({ frame: { t: 'sealed', chunkCount: 2, rowCount: 10 } });
    expect(await nextFrame(followed.frames)).toBeUndefined();
  });

  it('serves zstd chunks as stored to readers that take them, and as gzip to readers of an earlier version', async () => {
    const rows = Array.from({ length: 3_000 }, (_, i) => [i, `name ${i}`, i % 7 === 0 ? null : i / 4]);
    const stored = await encodeChunk(rows);
    expect(chunkCodec(stored)).toBe('zstd');
    const schema = { columns: ['id', 'name', 'ratio'] };
    const w = grant('write');
    expect((await inject('PUT', bufferPaths.schema(w.objectId), w.token, { schema })).statusCode).toBe(204);
    expect((await put(w, 0, stored, rows.length)).statusCode).toBe(200);
    expect((await commit(w, { schema, chunkCount: 1, rowCount: rows.length })).statusCode).toBe(200);
    const r = grant('read', w.objectId);
    const takesZstd = { [BufferHeader.chunkCodecs]: CHUNK_CODECS_ACCEPTED };
    const earlier = await inject('GET', bufferPaths.chunk(r.objectId, 0), r.token);
    const current = await inject('GET', bufferPaths.chunk(r.objectId, 0), r.token, undefined, takesZstd);
    expect(current.rawPayload.equals(stored)).toBe(true);
    // An earlier agent decodes gzip only: gunzip and a JSON row per line give it the same rows.
    expect(chunkCodec(earlier.rawPayload)).toBe('gzip');
    const lines = gunzipSync(earlier.rawPayload).toString('utf8').trimEnd().split('\n');
    expect(lines.map((l) => JSON.parse(l) as unknown)).toEqual(rows);
    // The same on a follow.
    const followed = await follow(w.objectId, r.token);
    expect(await nextFrame(followed.frames)).toEqual({ frame: { t: 'schema', schema } });
    const frame = await nextFrame(followed.frames);
    expect(frame?.frame).toMatchObject({ t: 'chunk', index: 0, rows: rows.length, bytes: frame!.body!.length });
    expect(await decodeChunk(frame!.body!)).toEqual(rows);
    expect(chunkCodec(frame!.body!)).toBe('gzip');
    const current2 = await follow(w.objectId, r.token, takesZstd);
    await nextFrame(current2.frames);
    expect((await nextFrame(current2.frames))?.body?.equals(stored)).toBe(true);
  });

  it('tells a follower TAMPERED when a chunk it was sent is written again before the commit', async () => {
    const schema = { columns: ['id'], keyColumns: ['id'] };
    const w = grant('write');
    expect((await inject('PUT', bufferPaths.schema(w.objectId), w.token, { schema })).statusCode).toBe(204);
    expect((await put(w, 0, randomBytes(1000), 1)).statusCode).toBe(200);
    const followed = await follow(w.objectId, grant('read', w.objectId).token);
    expect((await nextFrame(followed.frames))?.frame.t).toBe('schema');
    expect((await nextFrame(followed.frames))?.frame).toMatchObject({ t: 'chunk', index: 0 });
    // A retried writer rewrites chunk 0 (other rows) and commits.
    expect((await put(w, 0, randomBytes(900), 2)).statusCode).toBe(200);
    expect((await commit(w, { schema, chunkCount: 1, rowCount: 2 })).statusCode).toBe(200);
    expect(await nextFrame(followed.frames)).toMatchObject({ frame: { t: 'error', code: 'TAMPERED', status: 422 } });
  });

  it('documents the routes in the OpenAPI document', async () => {
    const doc = (await platform.gateway.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/buffer/objects/{objectId}/chunks/{index}',
        '/v1/buffer/objects/{objectId}/commit',
        '/v1/buffer/objects/{objectId}/manifest',
        '/v1/buffer/objects/{objectId}/schema',
        '/v1/buffer/objects/{objectId}/follow',
      ]),
    );
  });

  it('moves a multi-megabyte object over real HTTP', async () => {
    const address = platform.gateway.app.server.address() as { port: number };
    const base = `http://127.0.0.1:${address.port}`;
    const w = grant('write');
    const chunks = [randomBytes(8 * 1024 * 1024), randomBytes(8 * 1024 * 1024), randomBytes(3 * 1024 * 1024 + 17)];
    for (let i = 0; i < chunks.length; i++) {
      const res = await fetch(`${base}${bufferPaths.object(w.objectId)}/chunks/${i}`, {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${w.token}`,
          'content-type': 'application/octet-stream',
          'x-vsc-rows': '1000',
        },
        body: chunks[i]!,
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { sha256: string }).sha256).toBe(sha(chunks[i]!));
    }
    const committed = await fetch(`${base}${bufferPaths.object(w.objectId)}/commit`, {
      method: 'POST',
      headers: { authorization: `Bearer ${w.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ schema: { format: 'ndjson+gzip' }, chunkCount: 3, rowCount: 3000 }),
    });
    expect(committed.status).toBe(200);
    const r = grant('read', w.objectId);
    const manifest = (await (
      await fetch(`${base}${bufferPaths.object(r.objectId)}/manifest`, {
        headers: { authorization: `Bearer ${r.token}` },
      })
    ).json()) as { chunks: { sha256: string }[] };
    for (let i = 0; i < chunks.length; i++) {
      const res = await fetch(`${base}${bufferPaths.object(r.objectId)}/chunks/${i}`, {
        headers: { authorization: `Bearer ${r.token}` },
      });
      expect(res.status).toBe(200);
      const bytes = Buffer.from(await res.arrayBuffer());
      expect(sha(bytes)).toBe(manifest.chunks[i]!.sha256);
      expect(bytes.equals(chunks[i]!)).toBe(true);
    }
  });

  it('logs no token sent in the Authorization header', async () => {
    const g = grant('write');
    await put(g, 0, Buffer.from('x'), 1, g.token);
    await platform.gateway.app.inject({
      method: 'GET',
      url: `${bufferPaths.object(g.objectId)}/manifest`,
      headers: { authorization: `Bearer ${g.token}` },
    });
    const logged = platform.logs.lines.join('\n');
    expect(logged).toContain(bufferPaths.object(g.objectId));
    for (const token of issued) expect(logged).not.toContain(token.split('.')[0]);
  });
});

describe('buffer routes on an S3 store', () => {
  const bucket = `vsc-gw-buffer-${randomBytes(4).toString('hex')}`;
  let platform: Platform;
  beforeAll(async () => {
    platform = await startPlatform({
      buffer: {
        VSC_BUFFER_STORE: 's3',
        VSC_BUFFER_S3_ENDPOINT: services.minio.endpoint,
        VSC_BUFFER_S3_BUCKET: bucket,
        VSC_BUFFER_S3_ACCESS_KEY_ID: services.minio.accessKeyId,
        VSC_BUFFER_S3_SECRET_ACCESS_KEY: services.minio.secretAccessKey,
      },
    });
  });
  afterAll(async () => {
    await platform?.close();
    const s3 = new S3Client({
      endpoint: services.minio.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: services.minio,
    });
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    if (listed.Contents?.length)
      await s3.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: listed.Contents.map((o) => ({ Key: o.Key! })) },
        }),
      );
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    s3.destroy();
  });

  it('moves an object over real HTTP into MinIO and back', async () => {
    expect(platform.gateway.buffer.store.kind).toBe('s3');
    const address = platform.gateway.app.server.address() as { port: number };
    const base = `http://127.0.0.1:${address.port}`;
    const w = platform.gateway.grantBufferAccess({ tenantId: T, connectorId: CONNECTOR, scope: 'write' });
    const chunk = randomBytes(5 * 1024 * 1024);
    const auth = (token: string) => ({ authorization: `Bearer ${token}` });
    expect(
      (
        await fetch(`${base}${bufferPaths.object(w.objectId)}/chunks/0`, {
          method: 'PUT',
          headers: { ...auth(w.token), 'content-type': 'application/octet-stream', 'x-vsc-rows': '5' },
          body: chunk,
        })
      ).status,
    ).toBe(200);
    expect(
      (
        await fetch(`${base}${bufferPaths.object(w.objectId)}/commit`, {
          method: 'POST',
          headers: { ...auth(w.token), 'content-type': 'application/json' },
          body: JSON.stringify({ schema: {}, chunkCount: 1, rowCount: 5 }),
        })
      ).status,
    ).toBe(200);
    const r = platform.gateway.grantBufferAccess({
      tenantId: T,
      connectorId: CONNECTOR,
      objectId: w.objectId,
      scope: 'read',
    });
    const res = await fetch(`${base}${bufferPaths.object(r.objectId)}/chunks/0`, { headers: auth(r.token) });
    expect(Buffer.from(await res.arrayBuffer()).equals(chunk)).toBe(true);
  });
});

describe('buffer routes under load', () => {
  let platform: Platform;
  beforeAll(async () => {
    platform = await startPlatform({ buffer: { VSC_BUFFER_MAX_INFLIGHT_CHUNKS: '1' } });
  });
  afterAll(async () => platform?.close());
  const untilArrived = (path: string) =>
    until(`the gateway to receive ${path}`, () =>
      platform.logs.lines.some((l) => l.includes('incoming request') && l.includes(path)),
    );

  it('serves at most VSC_BUFFER_MAX_INFLIGHT_CHUNKS chunk requests at once and answers the rest 503 with Retry-After', async () => {
    const grant = platform.gateway.grantBufferAccess({ tenantId: T, connectorId: CONNECTOR, scope: 'write' });
    const base = platform.gatewayWsUrl.replace(/^ws/, 'http').replace(/\/v1\/agent\/connect$/, '');
    const body = randomBytes(256 * 1024);
    // A slow upload: half the body now, the rest after the second request was turned away.
    const first = slowUpload(
      `${base}${bufferPaths.object(grant.objectId)}/chunks/0`,
      grant.token,
      body,
      body.length / 2,
    );
    // Fastify logs a request as it arrives, just before the hook that takes the slot; probing with
    // requests instead would race the slow upload for the slot.
    await untilArrived(`${bufferPaths.object(grant.objectId)}/chunks/0`);
    const busy = await platform.gateway.app.inject({
      method: 'PUT',
      url: `${bufferPaths.object(grant.objectId)}/chunks/1`,
      payload: body,
      headers: {
        authorization: `Bearer ${grant.token}`,
        'content-type': 'application/octet-stream',
        'x-vsc-rows': '1',
      },
    });
    expect(busy.statusCode).toBe(503);
    expect(busy.headers['retry-after']).toBe('1');
    expect(busy.json().error.message).toMatch(/try again/);
    first.finish();
    expect(await first.status).toBe(200);
    // The slot is free again.
    const again = await platform.gateway.app.inject({
      method: 'PUT',
      url: `${bufferPaths.object(grant.objectId)}/chunks/1`,
      payload: body,
      headers: {
        authorization: `Bearer ${grant.token}`,
        'content-type': 'application/octet-stream',
        'x-vsc-rows': '1',
      },
    });
    expect(again.statusCode).toBe(200);
  });

  it('makes the agent wait for a free slot instead of failing its task', async () => {
    const tenantId = `ld${randomBytes(3).toString('hex')}`;
    await platform.api('POST', '/v1/tenants', { id: tenantId, name: 'Load' });
    const c = (
      await platform.api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${tenantId}/connectors`, { name: 'busy' })
    ).body;
    const reader = await sakilaReader();
    const agent = platform.startAgent({ apiKey: c.apiKey, databases: { sakila: sakilaDatabase(reader) } });
    await agent.welcomed;
    // Another upload holds the only slot until the agent has been turned away at least once.
    const grant = platform.gateway.grantBufferAccess({ tenantId: T, connectorId: CONNECTOR, scope: 'write' });
    const base = platform.gatewayWsUrl.replace(/^ws/, 'http').replace(/\/v1\/agent\/connect$/, '');
    const body = randomBytes(64 * 1024);
    const holder = slowUpload(`${base}${bufferPaths.object(grant.objectId)}/chunks/0`, grant.token, body, 10);
    const busyAnswers = () => platform.logs.lines.filter((l) => l.includes('"statusCode":503')).length;
    await untilArrived(`${bufferPaths.object(grant.objectId)}/chunks/0`);
    const busyBefore = busyAnswers();
    const workflowId = `busy-${randomBytes(4).toString('hex')}`;
    const running = platform.temporal.workflow.execute(extractStepWorkflow, {
      taskQueue: platform.workflowTaskQueue,
      workflowId,
      args: [
        {
          tenantId,
          source: { placement: 'connector', connectorId: c.id, database: 'sakila' },
          table: { name: 'language' },
        },
      ],
    });
    await until('the agent to be turned away', () => busyAnswers() > busyBefore, 60_000);
    holder.finish();
    const out = (await running) as { rowCount: number };
    expect(out.rowCount).toBe(6);
    expect(await holder.status).toBe(200);
    // One attempt: the agent waited out the 503s itself.
    const history = await platform.temporal.workflow.getHandle(workflowId).fetchHistory();
    const attempts = (history.events ?? [])
      .map((e) => e.activityTaskStartedEventAttributes?.attempt)
      .filter((a): a is number => typeof a === 'number');
    expect(attempts).toEqual([1]);
    // ...and it did meet them: the gateway turned its upload away at least once.
    expect(busyAnswers()).toBeGreaterThan(busyBefore);
  });
});

/** A chunk upload over real HTTP that sends its first `sentFirst` bytes now and the rest on finish(). */
function slowUpload(url: string, token: string, body: Buffer, sentFirst: number) {
  let finish!: () => void;
  const status = new Promise<number>((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/octet-stream',
          'content-length': String(body.length),
          'x-vsc-rows': '1',
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.write(body.subarray(0, sentFirst));
    finish = () => req.end(body.subarray(sentFirst));
  });
  return { status, finish };
}
