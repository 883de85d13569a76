import { createHmac } from 'node:crypto';
import { deliveryIdOf, newWebhookSecret, secretProblem, verifyDelivery } from '../src/webhooks/signatures';

/*
 * Vectors, and where each comes from:
 * - Standard Webhooks: the spec repository's own signing test (standard-webhooks/standard-webhooks,
 *   libraries/javascript/src/webhook.test.ts "sign function works", and the same vector in
 *   libraries/go/webhook_test.go TestWebhookSign).
 * - GitHub: the example in GitHub's documentation "Validating webhook deliveries" (secret
 *   "It's a Secret to Everybody", payload "Hello, World!").
 * - Stripe publishes no fixed vector: its signatures are made here with Node's crypto from Stripe's
 *   documented construction (HMAC-SHA256 of `${t}.${body}` keyed by the whole whsec_ secret, hex),
 *   independently of the code under test.
 */
const SW = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: Buffer.from('{"test": 2432232314}'),
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};
const swHeaders = (over: Record<string, string | undefined> = {}) => ({
  'webhook-id': SW.id,
  'webhook-timestamp': String(SW.timestamp),
  'webhook-signature': SW.signature,
  ...over,
});
const sw = (headers = swHeaders(), now = SW.timestamp, secrets = [SW.secret], body = SW.body) =>
  verifyDelivery({ scheme: 'standard-webhooks', headers, body, secrets, now });

describe('Standard Webhooks', () => {
  it("accepts the spec's published signature", () => {
    expect(sw()).toEqual({ ok: true, secretIndex: 0, timestamp: SW.timestamp });
  });

  it('accepts the secret with and without the whsec_ prefix', () => {
    expect(sw(swHeaders(), SW.timestamp, ['MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw']).ok).toBe(true);
  });

  it('accepts one valid signature among several (the spec test "multi sig payload is valid")', () => {
    const bogus = 'v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=';
    const headers = swHeaders({ 'webhook-signature': [bogus, `v2,${bogus.slice(3)}`, SW.signature, bogus].join(' ') });
    expect(sw(headers).ok).toBe(true);
  });

  it('accepts either of two live secrets (rotation), saying which matched', () => {
    expect(sw(swHeaders(), SW.timestamp, [newWebhookSecret(), SW.secret])).toMatchObject({ ok: true, secretIndex: 1 });
  });

  it('refuses a body changed by one byte, a re-serialised body, and another secret', () => {
    expect(sw(swHeaders(), SW.timestamp, [SW.secret], Buffer.from('{"test": 2432232315}'))).toMatchObject({
      reason: 'bad-signature',
    });
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(SW.body.toString())));
    expect(sw(swHeaders(), SW.timestamp, [SW.secret], reserialised)).toMatchObject({ reason: 'bad-signature' });
    expect(sw(swHeaders(), SW.timestamp, [newWebhookSecret()])).toMatchObject({ reason: 'bad-signature' });
  });

  it('refuses a signed id or timestamp changed after signing', () => {
    expect(sw(swHeaders({ 'webhook-id': 'msg_other' }))).toMatchObject({ reason: 'bad-signature' });
    expect(sw(swHeaders({ 'webhook-timestamp': String(SW.timestamp + 1) }), SW.timestamp)).toMatchObject({
      reason: 'bad-signature',
    });
  });

  it('refuses timestamps more than 300 s off, both ways, and accepts the edge', () => {
    expect(sw(swHeaders(), SW.timestamp + 300).ok).toBe(true);
    expect(sw(swHeaders(), SW.timestamp + 301)).toMatchObject({ reason: 'stale-timestamp' });
    expect(sw(swHeaders(), SW.timestamp - 301)).toMatchObject({ reason: 'stale-timestamp' });
  });

  it('refuses missing headers, partial and malformed signatures without throwing', () => {
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature'])
      expect(sw(swHeaders({ [name]: undefined })).ok).toBe(false);
    expect(sw(swHeaders({ 'webhook-timestamp': 'hello' }))).toMatchObject({ reason: 'missing-signature' });
    for (const s of [SW.signature.slice(0, 8), 'v1,', 'v1,dawfeoifkpqwoekfpqoekf', 'v1,!!!', ''])
      expect(sw(swHeaders({ 'webhook-signature': s })).ok).toBe(false);
  });

  it('checks signatures made by Node crypto for a generated secret', () => {
    const secret = newWebhookSecret();
    const body = Buffer.from('{"order":42}');
    const mac = createHmac('sha256', Buffer.from(secret.slice(6), 'base64'))
      .update(`msg_1.${SW.timestamp}.{"order":42}`)
      .digest('base64');
    const headers = {
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(SW.timestamp),
      'webhook-signature': `v1,${mac}`,
    };
    expect(sw(headers, SW.timestamp, [secret], body).ok).toBe(true);
  });
});

describe('Stripe', () => {
  const secret = 'whsec_test_secret_for_stripe_vectors';
  const body = Buffer.from('{\n  "id": "evt_1NG8Du2eZvKYlo2CUI79vXWy",\n  "object": "event"\n}');
  const t = 1_700_000_000;
  const sign = (key: string, ts: number, b: Buffer) =>
    createHmac('sha256', key).update(`${ts}.`).update(b).digest('hex');
  const verify = (headerValue: string, now = t, secrets = [secret]) =>
    verifyDelivery({ scheme: 'stripe', headers: { 'stripe-signature': headerValue }, body, secrets, now });

  it('accepts t=…,v1=… and any of several v1 signatures', () => {
    expect(verify(`t=${t},v1=${sign(secret, t, body)}`)).toEqual({ ok: true, secretIndex: 0, timestamp: t });
    expect(
      verify(`t=${t},v1=${sign('whsec_other_secret_xxxxxxxx', t, body)},v1=${sign(secret, t, body)},v0=abc`).ok,
    ).toBe(true);
  });

  it('refuses a v0 signature alone, another timestamp, a stale one, and a missing header', () => {
    expect(verify(`t=${t},v0=${sign(secret, t, body)}`)).toMatchObject({ reason: 'bad-signature' });
    expect(verify(`t=${t + 1},v1=${sign(secret, t, body)}`, t)).toMatchObject({ reason: 'bad-signature' });
    expect(verify(`t=${t},v1=${sign(secret, t, body)}`, t + 301)).toMatchObject({ reason: 'stale-timestamp' });
    expect(verify(`v1=${sign(secret, t, body)}`)).toMatchObject({ reason: 'missing-signature' });
    expect(verifyDelivery({ scheme: 'stripe', headers: {}, body, secrets: [secret], now: t })).toMatchObject({
      reason: 'missing-signature',
    });
  });

  it("takes the delivery id from the event's id", () => {
    expect(deliveryIdOf('stripe', {}, body)).toBe('evt_1NG8Du2eZvKYlo2CUI79vXWy');
    expect(deliveryIdOf('stripe', {}, Buffer.from('not json'))).toBeUndefined();
  });
});

describe('GitHub', () => {
  const verify = (signature: string | undefined, body: string, secrets: string[]) =>
    verifyDelivery({
      scheme: 'github',
      headers: { 'x-hub-signature-256': signature },
      body: Buffer.from(body),
      secrets,
      now: 0,
    });

  it("accepts GitHub's documented example", () => {
    const signature = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
    expect(verify(signature, 'Hello, World!', ["It's a Secret to Everybody"])).toEqual({ ok: true, secretIndex: 0 });
  });

  it('refuses another body, the SHA-1 header form, and no header', () => {
    const signature = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
    expect(verify(signature, 'Hello, World?', ["It's a Secret to Everybody"])).toMatchObject({
      reason: 'bad-signature',
    });
    expect(
      verify('sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59', 'Hello, World!', ["It's a Secret to Everybody"]),
    ).toMatchObject({ reason: 'bad-signature' });
    expect(verify(undefined, 'Hello, World!', ["It's a Secret to Everybody"])).toMatchObject({
      reason: 'missing-signature',
    });
  });

  it('takes the delivery id from X-GitHub-Delivery, or from the header the trigger names', () => {
    const headers = { 'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958', 'x-request-id': 'r-1' };
    expect(deliveryIdOf('github', headers, Buffer.alloc(0))).toBe('72d3162e-cc78-11e3-81ab-4c9367dc0958');
    expect(deliveryIdOf('github', headers, Buffer.alloc(0), 'X-Request-Id')).toBe('r-1');
    expect(deliveryIdOf('github', {}, Buffer.alloc(0))).toBeUndefined();
  });
});

describe('secrets', () => {
  it('generates whsec_ secrets of 32 random bytes, valid for every scheme', () => {
    const a = newWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(newWebhookSecret()).not.toBe(a);
    for (const scheme of ['standard-webhooks', 'stripe', 'github'] as const)
      expect(secretProblem(scheme, a)).toBeUndefined();
  });

  it("refuses a caller's secret that cannot be one", () => {
    expect(secretProblem('standard-webhooks', 'whsec_not base64!')).toMatch(/base64/);
    expect(secretProblem('standard-webhooks', 'whsec_c2hvcnQ=')).toMatch(/24 to 64 bytes/);
    expect(secretProblem('github', 'short')).toMatch(/at least 16/);
  });
});
