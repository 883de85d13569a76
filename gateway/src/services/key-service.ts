import { randomBytes } from 'node:crypto';
import fp from 'fastify-plugin';
import {
  checkApiKey,
  CloseCode,
  describeApiKey,
  generateApiKey,
  hashApiKey,
  hashesEqual,
  ProofPurpose,
  publicKeyFingerprint,
  verifyProof,
  type AgentChallenge,
  type AgentEnrolment,
} from '@vansales/protocol';
import type { AuditRepository, Repositories } from '@vansales/metadata';
import type { AgentHub } from '../agent-hub/agent-hub';
import type { AgentIdentity } from '../agent-hub/agent-connection';
import { GatewayError, GatewayErrorCode } from '../errors';
import { requireConnector } from './ownership';

export interface KeyServiceSettings {
  /** How long a new or re-bound key may enrol a key pair, in ms. */
  enrolWindowMs: number;
  /** Lifetime of a challenge, in ms. */
  challengeTtlMs: number;
}

export const DEFAULT_KEY_SETTINGS: KeyServiceSettings = { enrolWindowMs: 24 * 3_600_000, challengeTtlMs: 60_000 };

/** What the caller of a proof-bearing request looks like, besides its key. */
export interface ProofContext {
  /** The names this gateway answers to (VSC_GATEWAY_PUBLIC_HOSTS, else the request's Host). */
  audiences: readonly string[];
  /** The agent's informational machine label (x-vsc-machine-id), for refusal rows. */
  machineLabel?: string;
}

/** Why an agent's key was refused, in the error's `reason` (the agent decides to retry or stop on it). */
export const AgentAuthRefusal = {
  keyRevoked: 'key-revoked',
  notEnrolled: 'not-enrolled',
  enrolmentClosed: 'enrolment-closed',
  boundElsewhere: 'key-bound-elsewhere',
  machineMismatch: 'machine-mismatch',
  proofMissing: 'proof-missing',
  challengeUnknown: 'challenge-unknown',
  challengeMismatch: 'challenge-mismatch',
} as const;

/**
 * Key events (enrolments, re-binds) go to a chain of their own beside the connector's chain of agent
 * operations, which must stay comparable record for record with the agent's own log.
 */
export const keyEventsChain = (connectorId: string) => `${connectorId}/keys`;

const operatorActor = (activityId: string) => ({
  workflowId: 'operator',
  runId: 'control-plane',
  activityId,
  attempt: 1,
});
const agentActor = (activityId: string) => ({ workflowId: 'agent', runId: 'control-plane', activityId, attempt: 1 });

/**
 * Agent API keys: issued once, stored as hashes, revoked at once, and bound to the key pair the agent
 * enrols at `init`: every connection then signs a fresh challenge, so a copied key alone is worthless.
 */
export function createKeyService(deps: {
  repos: Repositories;
  hub: AgentHub;
  auditRepo?: AuditRepository;
  settings?: KeyServiceSettings;
}) {
  const { repos, hub, auditRepo } = deps;
  const settings = deps.settings ?? DEFAULT_KEY_SETTINGS;

  /** Resolves a key to its row, or explains why not (without echoing the key). */
  const resolve = async (rawKey: string) => {
    const check = checkApiKey(rawKey);
    if (!check.ok) throw new GatewayError(GatewayErrorCode.unauthorized, check.reason);
    const stored = await repos.findAgentKey(check.key.lookup);
    if (!stored || !hashesEqual(stored.hash, hashApiKey(rawKey)) || stored.tenantId !== check.key.tenantId) {
      throw new GatewayError(GatewayErrorCode.unauthorized, 'unknown API key');
    }
    if (stored.revokedAt)
      throw new GatewayError(GatewayErrorCode.forbidden, 'this API key was revoked; ask for a new key', {
        reason: AgentAuthRefusal.keyRevoked,
      });
    return { ...stored, lookup: check.key.lookup, label: describeApiKey(check.key) };
  };
  type ResolvedKey = Awaited<ReturnType<typeof resolve>>;

  const refuse = async (key: ResolvedKey, ctx: ProofContext, reason: string) =>
    repos.recordConnectionRefusal({
      tenantId: key.tenantId,
      connectorId: key.connectorId,
      keyLookup: key.lookup,
      machineId: ctx.machineLabel ?? '(none)',
      reason,
    });

  /** Takes the challenge (single use) and checks it was issued to this key. */
  const takeChallenge = async (key: ResolvedKey, challengeId: string) => {
    const challenge = await repos.takeAgentChallenge(challengeId);
    if (!challenge)
      throw new GatewayError(
        GatewayErrorCode.unauthorized,
        'unknown, used or expired challenge: ask for a new one (each connection signs a fresh challenge)',
        { reason: AgentAuthRefusal.challengeUnknown },
      );
    if (
      challenge.keyLookup !== key.lookup ||
      challenge.connectorId !== key.connectorId ||
      challenge.tenantId !== key.tenantId
    )
      throw new GatewayError(GatewayErrorCode.forbidden, 'this challenge was issued to another key', {
        reason: AgentAuthRefusal.challengeMismatch,
      });
    return challenge;
  };

  const audit = async (key: { tenantId: string; connectorId: string }, operation: string, actorId: string) => {
    await auditRepo?.append({
      tenantId: key.tenantId,
      connectorId: keyEventsChain(key.connectorId),
      actor: operation.startsWith('key.') ? operatorActor(actorId) : agentActor(actorId),
      operation,
      outcome: 'ok',
      durationMs: 0,
    });
  };

  return {
    /** A new key for the connector; it is returned here and never again. */
    async issue(tenantId: string, connectorId: string): Promise<string> {
      await requireConnector(repos, tenantId, connectorId);
      const apiKey = generateApiKey(tenantId);
      const parsed = checkApiKey(apiKey);
      if (!parsed.ok) throw new Error('generated key failed its own check');
      await repos.insertAgentKey({
        connectorId,
        tenantId,
        lookup: parsed.key.lookup,
        hash: hashApiKey(apiKey),
        enrolUntil: new Date(Date.now() + settings.enrolWindowMs),
      });
      await audit({ tenantId, connectorId }, 'key.issue', `key.issue:${parsed.key.lookup}`);
      return apiKey;
    },

    /**
     * The connector's keys, oldest first: the lookup id (the non-secret first 12 characters after the
     * tenant, which the site can match against its key), dates, and the enrolled machine's key-pair
     * fingerprint. Never the key or its hash.
     */
    async list(tenantId: string, connectorId: string) {
      await requireConnector(repos, tenantId, connectorId);
      const now = Date.now();
      return (await repos.listAgentKeys(tenantId, connectorId)).map((k) => ({
        id: k.lookup,
        createdAt: k.createdAt,
        lastUsedAt: k.lastUsedAt,
        revokedAt: k.revokedAt,
        machineFingerprint: k.publicKey ? publicKeyFingerprint(k.publicKey) : null,
        enrolledAt: k.enrolledAt,
        enrolUntil: k.enrolUntil && k.enrolUntil.getTime() > now ? k.enrolUntil : null,
      }));
    },

    /** Revokes one key; the agent using it (on any node) is dropped at once, agents on other keys stay. */
    async revokeOne(tenantId: string, connectorId: string, keyId: string) {
      await requireConnector(repos, tenantId, connectorId);
      if (!(await repos.revokeAgentKey(tenantId, connectorId, keyId)))
        throw new GatewayError(GatewayErrorCode.notFound, `this connector has no live key ${keyId}`);
      const disconnected = await hub.revokeKey(
        connectorId,
        keyId,
        CloseCode.keyRevoked,
        'the API key this agent uses was revoked',
      );
      await audit({ tenantId, connectorId }, 'key.revoke', `key.revoke:${keyId}`);
      return { revoked: keyId, disconnected };
    },

    /** Revokes every key of the connector and drops its agent, if connected. */
    async revoke(tenantId: string, connectorId: string) {
      await requireConnector(repos, tenantId, connectorId);
      const revoked = await repos.revokeAgentKeys(tenantId, connectorId);
      await audit({ tenantId, connectorId }, 'key.revoke-all', 'key.revoke-all');
      // Every gateway node cuts the connector's session and pending handshakes; `disconnected` says whether this one held it.
      const disconnected = await hub.revoke(
        connectorId,
        CloseCode.keyRevoked,
        'the API key of this connector was revoked',
      );
      return { revoked, disconnected };
    },

    /**
     * The operator's move of a connector to a new machine: its keys forget their key pair and either
     * take the given public key at once (nothing to race), or may enrol again for the enrolment window.
     * The connected agent, if any, is dropped; the act is recorded in the connector's audit chain.
     */
    async rebind(tenantId: string, connectorId: string, to: { publicKey?: string }) {
      await requireConnector(repos, tenantId, connectorId);
      const enrolUntil = new Date(Date.now() + settings.enrolWindowMs);
      const rebound = await repos.rebindAgentKeys(
        tenantId,
        connectorId,
        to.publicKey ? { publicKey: to.publicKey } : { enrolUntil },
      );
      if (rebound === 0)
        throw new GatewayError(GatewayErrorCode.notFound, 'this connector has no live key to re-bind; issue one');
      const disconnected = await hub.disconnect(
        connectorId,
        CloseCode.keyRevoked,
        'an operator re-bound the key of this connector to another machine',
      );
      await audit({ tenantId, connectorId }, to.publicKey ? 'key.rebind-to-key' : 'key.rebind-open', 'key.rebind');
      return {
        rebound,
        disconnected,
        ...(to.publicKey
          ? { publicKey: publicKeyFingerprint(to.publicKey) }
          : { enrolUntil: enrolUntil.toISOString() }),
      };
    },

    /** A fresh single-use challenge for the key's agent to sign (kept in the store: any node checks it). */
    async challenge(rawKey: string): Promise<AgentChallenge> {
      const key = await resolve(rawKey);
      const challengeId = randomBytes(18).toString('base64url');
      const nonce = randomBytes(32).toString('base64url');
      const expiresAt = new Date(Date.now() + settings.challengeTtlMs);
      await repos.insertAgentChallenge({
        id: challengeId,
        keyLookup: key.lookup,
        tenantId: key.tenantId,
        connectorId: key.connectorId,
        nonce,
        expiresAt,
      });
      return {
        challengeId,
        nonce,
        tenantId: key.tenantId,
        connectorId: key.connectorId,
        expiresAt: expiresAt.toISOString(),
        enrolled: key.publicKey !== null,
      };
    },

    /**
     * Enrols the agent's public key: once per key, within its enrolment window, with a signature by
     * that key over a fresh challenge. A key bound to a machine id by the previous release enrols
     * only from that machine. Enrolling the key already enrolled is a no-op (init run twice).
     */
    async enrol(rawKey: string, body: AgentEnrolment, ctx: ProofContext) {
      const key = await resolve(rawKey);
      const challenge = await takeChallenge(key, body.challengeId);
      const signed = ctx.audiences.some((audience) =>
        verifyProof(body.publicKey, body.signature, {
          purpose: ProofPurpose.enrol,
          audience,
          tenantId: key.tenantId,
          connectorId: key.connectorId,
          challengeId: body.challengeId,
          nonce: challenge.nonce,
          publicKey: body.publicKey,
        }),
      );
      if (!signed)
        throw new GatewayError(
          GatewayErrorCode.forbidden,
          "the enrolment is not signed by the key it enrols, for this gateway's name and this challenge",
          { reason: AgentAuthRefusal.challengeMismatch },
        );
      const fingerprint = publicKeyFingerprint(body.publicKey);
      if (key.publicKey === body.publicKey)
        return { tenantId: key.tenantId, connectorId: key.connectorId, publicKey: fingerprint, enrolled: false };
      if (key.publicKey !== null) {
        await refuse(key, ctx, 'enrolment with a key already enrolled by another key pair');
        throw new GatewayError(
          GatewayErrorCode.forbidden,
          'this API key is already enrolled by another machine. If this machine replaces it, an operator re-binds the key (./vsc key rebind); if not, revoke the key: someone else holds it',
          { reason: AgentAuthRefusal.boundElsewhere },
        );
      }
      if (key.boundMachineId !== null && key.boundMachineId !== ctx.machineLabel) {
        await refuse(key, ctx, 'enrolment from another machine than the one the key was bound to');
        throw new GatewayError(
          GatewayErrorCode.forbidden,
          'this API key is bound to the machine that first used it; issue a new key for this machine (each agent instance needs its own key)',
          { reason: AgentAuthRefusal.machineMismatch },
        );
      }
      if (!(await repos.enrolAgentKey(key.lookup, body.publicKey))) {
        const now = await repos.findAgentKey(key.lookup);
        if (now?.publicKey === body.publicKey)
          return { tenantId: key.tenantId, connectorId: key.connectorId, publicKey: fingerprint, enrolled: false };
        await refuse(key, ctx, 'enrolment after the enrolment window or after another enrolment');
        throw new GatewayError(
          GatewayErrorCode.forbidden,
          now?.publicKey
            ? 'this API key was just enrolled by another machine; if that was not yours, revoke the key'
            : 'the enrolment window of this API key has closed; an operator re-opens it (./vsc key rebind) or issues a new key',
          { reason: now?.publicKey ? AgentAuthRefusal.boundElsewhere : AgentAuthRefusal.enrolmentClosed },
        );
      }
      await audit(key, 'agent.enrol', 'agent.enrol');
      return { tenantId: key.tenantId, connectorId: key.connectorId, publicKey: fingerprint, enrolled: true };
    },

    /**
     * Resolves an agent's key to its connector when the request proves the enrolled private key by a
     * signature over a challenge this gateway issued to this key; explains why not otherwise.
     */
    async authenticateAgent(
      rawKey: string,
      proof: { challengeId?: string; signature?: string },
      ctx: ProofContext,
    ): Promise<AgentIdentity> {
      const key = await resolve(rawKey);
      if (key.publicKey === null) {
        await refuse(key, ctx, 'connection with a key that has no enrolled key pair');
        throw new GatewayError(
          GatewayErrorCode.forbidden,
          "this API key has no enrolled key pair: run mini-connector init (or run) on the agent's machine, which enrols it",
          { reason: AgentAuthRefusal.notEnrolled },
        );
      }
      if (!proof.challengeId || !proof.signature)
        throw new GatewayError(
          GatewayErrorCode.unauthorized,
          'this connection carries no proof of the agent key pair (x-vsc-challenge and x-vsc-proof headers); upgrade the agent',
          { reason: AgentAuthRefusal.proofMissing },
        );
      const challenge = await takeChallenge(key, proof.challengeId);
      const publicKey = key.publicKey;
      const valid = ctx.audiences.some((audience) =>
        verifyProof(publicKey, proof.signature!, {
          purpose: ProofPurpose.connect,
          audience,
          tenantId: key.tenantId,
          connectorId: key.connectorId,
          challengeId: proof.challengeId!,
          nonce: challenge.nonce,
        }),
      );
      if (!valid) {
        await refuse(key, ctx, 'proof not signed by the enrolled key pair');
        throw new GatewayError(
          GatewayErrorCode.forbidden,
          'this API key is bound to the key pair of the machine that enrolled it, and this connection does not prove it; issue a new key for this machine (each agent instance needs its own key), or an operator re-binds it',
          { reason: AgentAuthRefusal.boundElsewhere },
        );
      }
      await repos.touchAgentKey(key.lookup);
      return { tenantId: key.tenantId, connectorId: key.connectorId, keyLabel: key.label, keyLookup: key.lookup };
    },
  };
}
export type KeyService = ReturnType<typeof createKeyService>;

declare module 'fastify' {
  interface FastifyInstance {
    keys: KeyService;
  }
}

export const keyServicePlugin = fp<{
  repos: Repositories;
  hub: AgentHub;
  auditRepo?: AuditRepository;
  settings?: KeyServiceSettings;
}>(async (app, deps) => void app.decorate('keys', createKeyService(deps)), { name: 'key-service', fastify: '5.x' });
