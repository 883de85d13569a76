import { defaultPayloadConverter } from '@temporalio/common';
import { EncryptionCodec } from '@vansales/temporal-config';
import { startPlatform, type Platform } from './support/harness';

const toJson = (p: { metadata?: Record<string, Uint8Array | null> | null; data?: Uint8Array | null }) => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

describe('the codec endpoint is not an oracle (real gateway)', () => {
  describe('with VSC_CODEC_AUTH=none (a loopback dev setup)', () => {
    let platform: Platform;
    let sealed: ReturnType<typeof toJson>;

    beforeAll(async () => {
      platform = await startPlatform({ gateway: { VSC_CODEC_AUTH: 'none' } });
      const codec = EncryptionCodec.fromSpec(platform.payloadKeys);
      const [p] = await codec.encode([defaultPayloadConverter.toPayload({ salary: 91000 })], {
        type: 'workflow',
        namespace: 'vansales',
        workflowId: 'sync-x',
      });
      sealed = toJson(p!);
    });
    afterAll(async () => {
      await platform?.close();
    });

    const decode = (headers: Record<string, string>, remoteAddress?: string) =>
      platform.gateway.app.inject({
        method: 'POST',
        url: '/v1/codec/decode',
        headers,
        remoteAddress,
        payload: { payloads: [sealed] },
      });

    it('decodes for a loopback caller naming a loopback host', async () => {
      for (const host of ['127.0.0.1:8700', 'localhost:8700', '[::1]:8700']) {
        const res = await decode({ host });
        expect({ host, status: res.statusCode }).toEqual({ host, status: 200 });
      }
      const res = await decode({ host: '127.0.0.1' });
      const plain = Buffer.from((res.json() as { payloads: { data: string }[] }).payloads[0]!.data, 'base64');
      expect(JSON.parse(plain.toString('utf8'))).toEqual({ salary: 91000 });
    });

    it('refuses a Host a DNS-rebinding page would send', async () => {
      const res = await decode({ host: 'attacker.example:8700' });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toMatchObject({ error: { code: 'FORBIDDEN', message: expect.stringMatching(/Host/) } });
    });

    it('refuses a caller that is not on loopback', async () => {
      const res = await decode({ host: '127.0.0.1:8700' }, '192.0.2.10');
      expect(res.statusCode).toBe(403);
      expect(res.json()).toMatchObject({ error: { message: expect.stringMatching(/loopback callers only/) } });
    });

    it('has no encode endpoint: nobody gets the platform key to encrypt inputs of their choosing', async () => {
      const res = await platform.gateway.app.inject({
        method: 'POST',
        url: '/v1/codec/encode',
        headers: { host: '127.0.0.1:8700' },
        payload: { payloads: [toJson(defaultPayloadConverter.toPayload({ tenantId: 'victim' }))] },
      });
      expect(res.statusCode).toBe(404);
    });
  });

  describe('with the admin token and VSC_CODEC_ALLOWED_HOSTS', () => {
    let platform: Platform;
    beforeAll(async () => {
      platform = await startPlatform({ gateway: { VSC_CODEC_ALLOWED_HOSTS: 'gateway.example.com' } });
    });
    afterAll(async () => {
      await platform?.close();
    });

    it('answers only to the listed host names, and still wants the token', async () => {
      const call = (host: string, token?: string) =>
        platform.gateway.app.inject({
          method: 'POST',
          url: '/v1/codec/decode',
          headers: { host, ...(token ? { authorization: `Bearer ${token}` } : {}) },
          payload: { payloads: [] },
        });
      expect((await call('gateway.example.com', platform.adminToken)).statusCode).toBe(200);
      expect((await call('Gateway.Example.com:443', platform.adminToken)).statusCode).toBe(200);
      expect((await call('rebound.example.net', platform.adminToken)).statusCode).toBe(403);
      expect((await call('gateway.example.com')).statusCode).toBe(401);
    });
  });
});
