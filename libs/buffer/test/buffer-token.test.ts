import { randomBytes } from 'node:crypto';
import {
  assertTokenCovers,
  BufferErrorCode,
  issueBufferToken,
  parseTokenSecret,
  verifyBufferToken,
} from '@vansales/buffer';
import { expectCode } from './support/expect-code';

const secret = randomBytes(32);
const grant = {
  tenantId: 'acme',
  connectorId: '4f0c2a57-08e4-4a0e-9a39-0c1e62f3b6a1',
  objectId: 'object-0001',
  scope: 'write' as const,
  ttlSeconds: 600,
};
const now = Date.parse('2030-01-01T00:00:00Z');
const verify = async (token: string, at = now, key = secret) => verifyBufferToken(key, token, at);

describe('buffer access tokens', () => {
  it('carry tenant, connector, object, scope and expiry', async () => {
    const token = issueBufferToken(secret, grant, now);
    expect(token).toMatch(/^vbt_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    expect(await verify(token)).toEqual({
      tenantId: 'acme',
      connectorId: grant.connectorId,
      objectId: 'object-0001',
      scope: 'write',
      expiresAt: now + 600_000,
    });
    // Another node (or this one after a restart) with the same configured secret accepts it.
    expect((await verify(token, now, Buffer.from(secret))).objectId).toBe('object-0001');
  });

  it('differ for every grant, even the same one in the same second', () => {
    expect(issueBufferToken(secret, grant, now)).not.toBe(issueBufferToken(secret, grant, now));
  });

  it('expire', async () => {
    const token = issueBufferToken(secret, grant, now);
    expect((await verify(token, now + 599_000)).scope).toBe('write');
    const err = await expectCode(verify(token, now + 600_000), BufferErrorCode.unauthorized);
    expect(err.details).toEqual({ reason: 'expired' });
  });

  it('refuse forgeries: another secret, edited claims, a borrowed signature', async () => {
    const token = issueBufferToken(secret, grant, now);
    expect(
      (await expectCode(verify(issueBufferToken(randomBytes(32), grant, now)), BufferErrorCode.unauthorized)).details,
    ).toEqual({ reason: 'signature' });
    const [body, mac] = token.split('.') as [string, string];
    const claims = JSON.parse(Buffer.from(body.slice(4), 'base64url').toString()) as Record<string, unknown>;
    const edited = `vbt_${Buffer.from(JSON.stringify({ ...claims, s: 'read', o: 'someone-elses' })).toString('base64url')}.${mac}`;
    expect((await expectCode(verify(edited), BufferErrorCode.unauthorized)).details).toEqual({ reason: 'signature' });
    const other = issueBufferToken(secret, { ...grant, objectId: 'object-0002' }, now);
    await expectCode(verify(`${other.split('.')[0]}.${mac}`), BufferErrorCode.unauthorized);
    const flipped = mac.startsWith('A') ? `B${mac.slice(1)}` : `A${mac.slice(1)}`;
    await expectCode(verify(`${body}.${flipped}`), BufferErrorCode.unauthorized);
  });

  it('refuse malformed tokens without echoing them', async () => {
    for (const bad of [
      '',
      'vbt_',
      'Bearer x',
      'vmc_acme_x',
      `vbt_${'a'.repeat(20)}`,
      `${issueBufferToken(secret, grant, now)}x`,
      'vbt_../../etc.passwd',
    ]) {
      const err = await expectCode(verify(bad), BufferErrorCode.unauthorized);
      expect(['malformed', 'signature']).toContain(err.details?.reason);
      if (bad.length > 4) expect(err.message).not.toContain(bad);
    }
  });

  it('cover one object and one scope', () => {
    const claims = verifyBufferToken(secret, issueBufferToken(secret, grant, now), now);
    expect(() => assertTokenCovers(claims, 'object-0001', 'write')).not.toThrow();
    expect(() => assertTokenCovers(claims, 'object-0002', 'write')).toThrow(
      expect.objectContaining({ code: BufferErrorCode.forbidden }),
    );
    expect(() => assertTokenCovers(claims, 'object-0001', 'read')).toThrow(
      expect.objectContaining({ code: BufferErrorCode.forbidden }),
    );
  });

  it('are issued only for valid grants and secrets', () => {
    expect(() => issueBufferToken(randomBytes(16), grant, now)).toThrow(/at least 32 bytes/);
    expect(() => issueBufferToken(secret, { ...grant, ttlSeconds: 0 }, now)).toThrow(/ttlSeconds/);
    expect(() => issueBufferToken(secret, { ...grant, objectId: '../x' }, now)).toThrow(/valid tenant id/);
    expect(() => issueBufferToken(secret, { ...grant, scope: 'admin' as never }, now)).toThrow(/scope/);
  });

  it('take their secret as base64 of at least 32 bytes', () => {
    expect(parseTokenSecret(secret.toString('base64')).equals(secret)).toBe(true);
    expect(parseTokenSecret(secret.toString('base64url')).equals(secret)).toBe(true);
    expect(() => parseTokenSecret(randomBytes(16).toString('base64'))).toThrow(
      /16 bytes; it must be base64 of at least 32/,
    );
    expect(() => parseTokenSecret('not base64 at all!')).toThrow(/must be base64/);
  });
});
