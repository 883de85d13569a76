import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import Redis from 'ioredis';
import { testServices } from '@vansales/test-kit';
import { createLogger } from '../src/logger';
import {
  ClusterUnavailableError,
  redisSessionCluster,
  type Revocation,
  type SessionCluster,
} from '../src/agent-hub/session-cluster';

/** The lease and revocation mechanics of the cluster store, on the test services' Redis. */
describe('the gateway cluster store on Redis', () => {
  const services = testServices();
  const log = createLogger('silent', 'test');
  const opened: SessionCluster[] = [];
  const redis = new Redis(services.redisUrl);
  const node = async (leaseMs = 1500) => {
    const c = await redisSessionCluster({ url: services.redisUrl, leaseMs, log });
    opened.push(c);
    return c;
  };
  const until = async (what: string, check: () => boolean | Promise<boolean>) => {
    const deadline = Date.now() + 10_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  afterAll(async () => {
    await Promise.all(opened.map((c) => c.close()));
    redis.disconnect();
  });

  it('gives one lease per connector across nodes, until its holder releases it', async () => {
    const [a, b] = [await node(), await node()];
    const connectorId = randomUUID();
    const lease = await a.acquire(connectorId, 'session-a');
    expect(lease).toBeDefined();
    expect(await b.acquire(connectorId, 'session-b')).toBeUndefined();
    expect(await b.holder(connectorId)).toBe('session-a');
    expect(await b.online([connectorId, randomUUID()])).toEqual(new Set([connectorId]));
    await lease!.release();
    expect(await b.acquire(connectorId, 'session-b')).toBeDefined();
  });

  it('keeps renewing a held lease past its lifetime', async () => {
    const a = await node(1000);
    const connectorId = randomUUID();
    const lost: string[] = [];
    const lease = (await a.acquire(connectorId, 'kept'))!;
    lease.onLost = (reason) => lost.push(reason);
    // A renewal shows as the key's remaining time going up between two reads (it only goes down
    // otherwise). Comparing with the first read alone needed a read within a millisecond of a renewal.
    let previous = await redis.pttl(`vsc:gw:lease:${connectorId}`);
    const start = Date.now();
    await until('two renewals, past the lease lifetime', async () => {
      const ttl = await redis.pttl(`vsc:gw:lease:${connectorId}`);
      expect(ttl).toBeGreaterThan(0);
      const renewed = ttl > previous;
      previous = ttl;
      return renewed && Date.now() - start > 1000;
    });
    expect(lost).toEqual([]);
    await lease.release();
  });

  it('broadcasts a revocation to the other nodes and voids the lease, so its holder loses it even without the message', async () => {
    const [a, b] = [await node(), await node()];
    const connectorId = randomUUID();
    const heard: Revocation[] = [];
    a.onRevocation((r) => heard.push(r));
    const lease = (await a.acquire(connectorId, 'doomed'))!;
    const lost: string[] = [];
    lease.onLost = (reason) => lost.push(reason);
    await b.revoke(connectorId, 4403, 'revoked');
    await until('node a to hear the revocation', () => heard.some((r) => r.connectorId === connectorId));
    expect(heard.find((r) => r.connectorId === connectorId)).toMatchObject({ code: 4403, from: b.nodeId });
    await until('node a to lose the lease at its next renewal', () => lost.length === 1);
    expect(lost[0]).toMatch(/revoked or taken/);
    // The tombstone does not block a new session (its key is checked again after the lease).
    expect(await b.acquire(connectorId, 'next')).toBeDefined();
  });

  it('announces an approved agent version to the other nodes, not back to its sender; a malformed one is ignored', async () => {
    const [a, b] = [await node(), await node()];
    const heardA: string[] = [];
    const heardB: string[] = [];
    a.onUpdateAnnounced((t) => heardA.push(t));
    b.onUpdateAnnounced((t) => heardB.push(t));
    const tenantId = `t-${randomUUID()}`;
    // Other publishers on the channel (a malformed message) change nothing.
    await redis.publish('vsc:gw:agent-updates', '{"tenantId": 7}');
    await a.announceUpdate(tenantId);
    await until('node b to hear the announcement', () => heardB.includes(tenantId));
    // The sender offers to its own agents itself; its own message is not handled twice.
    await b.announceUpdate(`${tenantId}-b`);
    await until('node a to hear the second one', () => heardA.includes(`${tenantId}-b`));
    // (Filtered: other test files' gateways may share this Redis.)
    expect(heardA.filter((t) => t.startsWith(tenantId))).toEqual([`${tenantId}-b`]);
    expect(heardB.filter((t) => t.startsWith(tenantId))).toEqual([tenantId]);
  });

  it('releases only its own lease', async () => {
    const a = await node();
    const connectorId = randomUUID();
    const lease = (await a.acquire(connectorId, 'mine'))!;
    await redis.set(`vsc:gw:lease:${connectorId}`, 'other-node/other-session', 'PX', 10_000);
    await lease.release();
    expect(await redis.get(`vsc:gw:lease:${connectorId}`)).toBe('other-node/other-session');
  });

  it('fails closed when Redis cannot be reached: no lease, a readiness answer that says why', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const c = await redisSessionCluster({ url: `redis://127.0.0.1:${port}/0`, leaseMs: 1500, log });
    opened.push(c);
    await expect(c.acquire(randomUUID(), 's')).rejects.toBeInstanceOf(ClusterUnavailableError);
    await expect(c.holder(randomUUID())).rejects.toBeInstanceOf(ClusterUnavailableError);
    expect(await c.online([randomUUID()])).toBeUndefined();
    expect(await c.check()).toMatchObject({ ok: false, message: expect.stringMatching(/Redis unreachable/) });
  });
});
