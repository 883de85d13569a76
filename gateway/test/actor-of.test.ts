import type { FastifyRequest } from 'fastify';
import { actorOf } from '../src/routes/definition-run-routes';

/** A request as the auth hook leaves it: its principal and headers (actorOf reads nothing else). */
const request = (principal: FastifyRequest['principal'], headers: Record<string, string> = {}) =>
  ({ principal, headers }) as unknown as FastifyRequest;

describe('actorOf: who a run, flag or credential change is recorded as', () => {
  it('records a person as themselves, never as the admin, whatever X-Actor says', () => {
    expect(actorOf(request({ kind: 'person', userId: 'u-1', sessionId: 's-1' }, { 'x-actor': 'mallory' }))).toBe(
      'user:u-1',
    );
    expect(
      actorOf(request({ kind: 'person', userId: 'u-2', tokenId: 't-9', tokenTenantId: 'acme', tokenRole: 'operator' })),
    ).toBe('user:u-2');
  });

  it('records a tenant (service) token as that token', () => {
    expect(actorOf(request({ kind: 'tenant-token', tokenId: 't-3', tenantId: 'acme', role: 'operator' }))).toBe(
      'token:t-3',
    );
  });

  it('labels the admin token with X-Actor when it is a plain label, else plain admin', () => {
    expect(actorOf(request({ kind: 'admin' }, { 'x-actor': 'alice' }))).toBe('admin:alice');
    expect(actorOf(request({ kind: 'admin' }, { 'x-actor': 'not a label!' }))).toBe('admin');
    expect(actorOf(request({ kind: 'admin' }))).toBe('admin');
  });
});
