import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import Redis from 'ioredis';
import { z } from 'zod';
import type { Logger } from '../logger';

/**
 * What every gateway node shares about agent sessions: one lease per connector (so one live session
 * across the cluster), a revocation channel (so a revoke on one node cuts a session held by another) and
 * an update channel (so an agent version approved through one node is offered by every node to its agents).
 * `redis` is the production mode; `off` is one node alone (development), where the hub's own map is
 * the whole truth.
 */
export interface SessionCluster {
  readonly mode: 'redis' | 'off';
  readonly nodeId: string;
  /**
   * Takes the connector's lease for this session: the lease, or undefined when another session holds
   * it (on any node). Throws ClusterUnavailableError when the cluster cannot be asked (fail closed).
   */
  acquire(connectorId: string, sessionId: string): Promise<SessionLease | undefined>;
  /** The session id holding the connector's lease, if any. Throws ClusterUnavailableError. */
  holder(connectorId: string): Promise<string | undefined>;
  /** Which of these connectors hold a live lease anywhere; undefined when the cluster cannot be asked. */
  online(connectorIds: string[]): Promise<Set<string> | undefined>;
  /**
   * Tells every node (this one included) to cut the connector's sessions and handshakes, and voids
   * its lease so a node that misses the message loses the session at its next renewal.
   */
  revoke(connectorId: string, code: number, reason: string, keyLookup?: string): Promise<void>;
  /** Called for every revocation, from any node. */
  onRevocation(handler: (revocation: Revocation) => void): void;
  /**
   * Tells the other nodes that the tenant approved an agent version, so each offers it to the agents
   * it holds (the caller offers it to its own). Best effort: a node that misses it offers the version
   * at the agent's next hello, as before.
   */
  announceUpdate(tenantId: string): Promise<void>;
  /** Called for every approval announced by another node. */
  onUpdateAnnounced(handler: (tenantId: string) => void): void;
  /** Readiness: whether new sessions can be accepted. */
  check(): Promise<{ ok: boolean; message: string }>;
  close(): Promise<void>;
}

export interface SessionLease {
  readonly connectorId: string;
  readonly sessionId: string;
  /** Called once when the lease is lost (taken over, revoked, or unrenewable past its expiry). */
  onLost?: (reason: string) => void;
  release(): Promise<void>;
}

export const Revocation = z.object({
  connectorId: z.string().min(1).max(128),
  code: z.number().int().min(1000).max(4999),
  reason: z.string().max(123),
  from: z.string().max(200),
  /** Only the sessions and handshakes of this key (one key revoked); absent: every one of the connector. */
  keyLookup: z.string().min(1).max(64).optional(),
});
export type Revocation = z.infer<typeof Revocation>;

export const UpdateAnnouncement = z.object({
  tenantId: z.string().min(1).max(128),
  from: z.string().max(200),
});
export type UpdateAnnouncement = z.infer<typeof UpdateAnnouncement>;

export class ClusterUnavailableError extends Error {
  constructor(cause: string) {
    super(`the gateway cannot reach Redis (${cause})`);
    this.name = 'ClusterUnavailableError';
  }
}

export function newNodeId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

/** One node alone: leases and revocations live in this process. */
export function localSessionCluster(nodeId = newNodeId()): SessionCluster {
  const leases = new Map<string, string>();
  const handlers: ((r: Revocation) => void)[] = [];
  return {
    mode: 'off',
    nodeId,
    async acquire(connectorId, sessionId) {
      if (leases.has(connectorId)) return undefined;
      leases.set(connectorId, sessionId);
      return {
        connectorId,
        sessionId,
        async release() {
          if (leases.get(connectorId) === sessionId) leases.delete(connectorId);
        },
      };
    },
    async holder(connectorId) {
      return leases.get(connectorId);
    },
    async online(ids) {
      return new Set(ids.filter((id) => leases.has(id)));
    },
    async revoke(connectorId, code, reason, keyLookup) {
      for (const h of handlers) h({ connectorId, code, reason, from: nodeId, ...(keyLookup ? { keyLookup } : {}) });
    },
    onRevocation(handler) {
      handlers.push(handler);
    },
    // One node: there is no other node to tell.
    async announceUpdate() {},
    onUpdateAnnounced() {},
    async check() {
      return {
        ok: true,
        message: 'single node (VSC_GATEWAY_CLUSTER=off): no Redis, sessions are known to this node only',
      };
    },
    async close() {},
  };
}

const LEASE_PREFIX = 'vsc:gw:lease:';
const REVOCATIONS = 'vsc:gw:revocations';
const UPDATE_ANNOUNCEMENTS = 'vsc:gw:agent-updates';
/** A revoked lease keeps this value until it expires, so the holder's renewal fails even if it missed the message. */
const TOMBSTONE = 'revoked';

// Take the lease when it is free or only holds a revocation's tombstone (the key is checked again after it).
const ACQUIRE = `local v = redis.call('GET', KEYS[1])
if (not v) or v == '${TOMBSTONE}' then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`;
// Extend our own lease; take it back when it vanished (Redis restarted without it), since no one else
// could have taken it while our local expiry had not passed. Anything else (a tombstone, another session): lost.
const RENEW = `local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 2 end
return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

interface LiveLease extends SessionLease {
  value: string;
  /** Local clock: past this, the lease may be someone else's, so the session is cut. */
  validUntil: number;
  lost: boolean;
}

export interface RedisSessionClusterOptions {
  url: string;
  nodeId?: string;
  /** Lease lifetime in ms; renewed every third of it. */
  leaseMs: number;
  log: Logger;
}

/**
 * The cluster on Redis. Leases are `SET NX PX` keys holding `<node>/<session>`, renewed by a
 * compare-and-extend script and released by compare-and-delete. Commands fail at once while Redis is
 * unreachable (no offline queue): new sessions are refused, and a held lease is kept only until its
 * expiry by the local clock, measured from when the last successful renewal was sent.
 */
export async function redisSessionCluster(options: RedisSessionClusterOptions): Promise<SessionCluster> {
  const { leaseMs, log } = options;
  const nodeId = options.nodeId ?? newNodeId();
  const redisOptions = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: Math.max(500, Math.floor(leaseMs / 6)),
    // Keep trying for ever, at most a second apart, so the node accepts sessions soon after Redis is back.
    retryStrategy: (attempt: number) => Math.min(100 * attempt, 1000),
  };
  // Commands fail at once while Redis is away (no queue): that is what refuses new sessions.
  const client = new Redis(options.url, redisOptions);
  // The subscription waits for Redis instead, and is renewed by ioredis after every reconnect.
  const subscriber = new Redis(options.url, {
    ...redisOptions,
    enableOfflineQueue: true,
    maxRetriesPerRequest: null,
    commandTimeout: undefined,
  });
  let lastError: string | undefined;
  const onError = (which: string) => (err: Error) => {
    // ioredis repeats the same error on every retry: log the change, not each attempt.
    if (err.message !== lastError) log.warn({ redis: which, err: err.message }, 'Redis connection problem');
    lastError = err.message;
  };
  client.on('error', onError('commands'));
  subscriber.on('error', onError('revocations'));
  client.on('ready', () => {
    if (lastError) log.info('Redis reachable again');
    lastError = undefined;
  });

  const handlers: ((r: Revocation) => void)[] = [];
  const updateHandlers: ((tenantId: string) => void)[] = [];
  /** A message of another node on one of the channels, or undefined (this node's own, or malformed: logged). */
  const parse = <T extends { from: string }>(schema: z.ZodType<T>, message: string, what: string): T | undefined => {
    let parsed;
    try {
      parsed = schema.safeParse(JSON.parse(message));
    } catch {
      parsed = undefined;
    }
    if (!parsed?.success) return void log.warn(`ignored a malformed ${what} message`);
    // This node's own messages were handled when sent.
    return parsed.data.from === nodeId ? undefined : parsed.data;
  };
  subscriber.on('message', (channel: string, message: string) => {
    if (channel === REVOCATIONS) {
      const revocation = parse(Revocation, message, 'revocation');
      if (revocation) for (const h of handlers) h(revocation);
    } else if (channel === UPDATE_ANNOUNCEMENTS) {
      const announcement = parse(UpdateAnnouncement, message, 'agent update announcement');
      if (announcement) for (const h of updateHandlers) h(announcement.tenantId);
    }
  });
  // Redis keeps no pub/sub message for a node not yet subscribed: a node that served agents before its
  // SUBSCRIBE was through would miss a revocation or an update offer sent meanwhile (CI saw a test's
  // announcement lost that way, on a loaded machine). So the start below waits for it too.
  const subscribed = subscriber.subscribe(REVOCATIONS, UPDATE_ANNOUNCEMENTS).then(
    () => true,
    (err: Error) => {
      log.error({ err: err.message }, 'could not subscribe to the cluster channels');
      return false;
    },
  );
  // Give Redis a moment at start, so the first agents are not refused for nothing; then start anyway:
  // the node serves the REST API, reports not ready and refuses agent sessions until Redis answers.
  const connected = new Promise<boolean>((resolve) => {
    if (client.status === 'ready') return resolve(true);
    client.once('ready', () => resolve(true));
  });
  const ready = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 3000);
    void Promise.all([connected, subscribed]).then(([up, listening]) => {
      clearTimeout(timer);
      resolve(up && listening);
    });
  });
  if (!ready) log.error('Redis is not reachable at start; agent sessions are refused until it is');

  const unavailable = (err: unknown) => new ClusterUnavailableError((err as Error).message ?? String(err));
  const key = (connectorId: string) => `${LEASE_PREFIX}${connectorId}`;
  const leases = new Map<string, LiveLease>();

  const lose = (lease: LiveLease, reason: string) => {
    if (lease.lost) return;
    lease.lost = true;
    leases.delete(lease.connectorId);
    lease.onLost?.(reason);
  };

  const renewAll = async () => {
    const now = Date.now();
    const all = [...leases.values()];
    if (all.length === 0) return;
    const sentAt = Date.now();
    try {
      const pipeline = client.pipeline();
      for (const l of all) pipeline.eval(RENEW, 1, key(l.connectorId), l.value, leaseMs);
      const results = (await pipeline.exec()) ?? [];
      results.forEach(([err, outcome], i) => {
        const lease = all[i]!;
        if (err) {
          if (now > lease.validUntil)
            lose(lease, 'its lease could not be renewed before it expired (Redis unreachable)');
          return;
        }
        if (outcome === 0) return lose(lease, 'its lease was revoked or taken by another session');
        lease.validUntil = sentAt + leaseMs;
      });
    } catch {
      for (const lease of all)
        if (Date.now() > lease.validUntil)
          lose(lease, 'its lease could not be renewed before it expired (Redis unreachable)');
    }
  };
  let renewing = false;
  const timer = setInterval(
    () => {
      if (renewing) return;
      renewing = true;
      void renewAll().finally(() => (renewing = false));
    },
    Math.max(100, Math.floor(leaseMs / 3)),
  );
  timer.unref();

  return {
    mode: 'redis',
    nodeId,
    async acquire(connectorId, sessionId) {
      const value = `${nodeId}/${sessionId}`;
      const sentAt = Date.now();
      let taken;
      try {
        taken = await client.eval(ACQUIRE, 1, key(connectorId), value, leaseMs);
      } catch (err) {
        throw unavailable(err);
      }
      if (taken !== 1) return undefined;
      const lease: LiveLease = {
        connectorId,
        sessionId,
        value,
        validUntil: sentAt + leaseMs,
        lost: false,
        async release() {
          if (leases.get(connectorId) === lease) leases.delete(connectorId);
          lease.lost = true;
          // A lease we cannot delete expires by itself within leaseMs.
          await client.eval(RELEASE, 1, key(connectorId), value).catch(() => undefined);
        },
      };
      leases.set(connectorId, lease);
      return lease;
    },
    async holder(connectorId) {
      let value;
      try {
        value = await client.get(key(connectorId));
      } catch (err) {
        throw unavailable(err);
      }
      if (!value || value === TOMBSTONE) return undefined;
      return value.slice(value.indexOf('/') + 1);
    },
    async online(ids) {
      if (ids.length === 0) return new Set();
      try {
        const values = await client.mget(ids.map(key));
        return new Set(ids.filter((_, i) => values[i] && values[i] !== TOMBSTONE));
      } catch {
        return undefined;
      }
    },
    async revoke(connectorId, code, reason, keyLookup) {
      const revocation: Revocation = { connectorId, code, reason, from: nodeId, ...(keyLookup ? { keyLookup } : {}) };
      // This node's sessions go at once, whatever Redis says.
      for (const h of handlers) h(revocation);
      try {
        // One key's revocation leaves the lease alone: the session holding it may use another key.
        // Its holder, if it used that key, is cut by the message, and the key is refused at every later connection.
        if (!keyLookup) await client.set(key(connectorId), TOMBSTONE, 'PX', leaseMs);
        await client.publish(REVOCATIONS, JSON.stringify(revocation));
      } catch (err) {
        log.error(
          { connectorId, err: (err as Error).message },
          'could not broadcast a revocation (Redis unreachable): other nodes cut the session when its lease expires',
        );
      }
    },
    onRevocation(handler) {
      handlers.push(handler);
    },
    async announceUpdate(tenantId) {
      const announcement: UpdateAnnouncement = { tenantId, from: nodeId };
      try {
        await client.publish(UPDATE_ANNOUNCEMENTS, JSON.stringify(announcement));
      } catch (err) {
        log.warn(
          { tenantId, err: (err as Error).message },
          "could not announce an approved agent version (Redis unreachable): other nodes' agents get it at their next hello",
        );
      }
    },
    onUpdateAnnounced(handler) {
      updateHandlers.push(handler);
    },
    async check() {
      try {
        const pong = await client.ping();
        if (pong !== 'PONG') return { ok: false, message: `Redis answered ${pong} to PING` };
        if (subscriber.status !== 'ready')
          return { ok: false, message: `the revocation channel is ${subscriber.status}; new sessions are refused` };
        return { ok: true, message: `Redis reachable; ${leases.size} leases held by node ${nodeId}` };
      } catch (err) {
        return { ok: false, message: `Redis unreachable (${(err as Error).message}); new agent sessions are refused` };
      }
    },
    async close() {
      clearInterval(timer);
      await Promise.all([...leases.values()].map((l) => l.release()));
      client.disconnect();
      subscriber.disconnect();
    },
  };
}
