import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { z } from 'zod';

/**
 * Proof that an agent holds the private half of the key pair its API key is bound to.
 *
 * The API key alone is a bearer secret: whoever copies it could use it. So at `init` the agent makes
 * an Ed25519 key pair, keeps the private key in its vault and enrols the public key with the gateway;
 * from then on every connection signs a fresh, single-use challenge from the gateway. The signed
 * message binds the purpose, the gateway as the agent dialled it (audience), the tenant, the
 * connector, the challenge and (when enrolling) the public key itself, so a signature cannot be
 * reused for another connector, another gateway, another purpose, or twice.
 */

/**
 * Parsed keys by their text: parsing a PEM costs more than the Ed25519 signature itself, and the same
 * few keys (the agent's, the gateway's audit key, enrolled public keys) sign and verify again and again.
 */
const parsedKeys = new Map<string, KeyObject>();
function parsedKey(text: string, parse: (text: string) => KeyObject): KeyObject {
  let key = parsedKeys.get(text);
  if (!key) {
    key = parse(text);
    if (parsedKeys.size >= 256) parsedKeys.delete(parsedKeys.keys().next().value as string);
    parsedKeys.set(text, key);
  }
  return key;
}
const privateKey = (pem: string) => parsedKey(pem, (t) => createPrivateKey(t));
const publicKey = (spkiBase64url: string) =>
  parsedKey(spkiBase64url, (t) => createPublicKey({ key: Buffer.from(t, 'base64url'), format: 'der', type: 'spki' }));

export const AGENT_CHALLENGE_PATH = '/v1/agent/challenge';
export const AGENT_ENROL_PATH = '/v1/agent/enrol';

/** Upgrade-request headers of the WebSocket: the challenge answered and its signature. */
export const AgentProofHeader = { challenge: 'x-vsc-challenge', proof: 'x-vsc-proof' } as const;

export const ProofPurpose = { connect: 'agent-connect', enrol: 'agent-enrol' } as const;
export type ProofPurpose = (typeof ProofPurpose)[keyof typeof ProofPurpose];

const base64url = z.string().regex(/^[A-Za-z0-9_-]+$/, 'expected base64url');

/** What `POST /v1/agent/challenge` answers. */
export const AgentChallenge = z.object({
  challengeId: z.string().regex(/^[A-Za-z0-9_-]{16,64}$/),
  nonce: base64url.min(32).max(128),
  tenantId: z.string().min(1).max(128),
  connectorId: z.string().min(1).max(128),
  expiresAt: z.iso.datetime(),
  /** Whether the key already has a public key; if not, the agent enrols before it connects. */
  enrolled: z.boolean(),
});
export type AgentChallenge = z.infer<typeof AgentChallenge>;

/** Body of `POST /v1/agent/enrol`. */
export const AgentEnrolment = z.object({
  challengeId: AgentChallenge.shape.challengeId,
  /** Ed25519 public key, SPKI DER in base64url. */
  publicKey: base64url.min(40).max(128),
  /** Signature of `proofMessage({ purpose: 'agent-enrol', ..., publicKey })`, base64url. */
  signature: base64url.min(80).max(128),
});
export type AgentEnrolment = z.infer<typeof AgentEnrolment>;

export interface ProofInput {
  purpose: ProofPurpose;
  /** host[:port] of the gateway as the agent dialled it. */
  audience: string;
  tenantId: string;
  connectorId: string;
  challengeId: string;
  nonce: string;
  /** The public key being enrolled (enrol only): a key cannot be swapped under the signature. */
  publicKey?: string;
}

/** The exact bytes signed; fields are NUL-separated and none may contain a NUL. */
export function proofMessage(p: ProofInput): Buffer {
  const fields = [
    'vansales-connect/agent-proof/v1',
    p.purpose,
    p.audience.toLowerCase(),
    p.tenantId,
    p.connectorId,
    p.challengeId,
    p.nonce,
    p.publicKey ?? '',
  ];
  if (fields.some((f) => f.includes('\0'))) throw new TypeError('proof fields must not contain NUL');
  return Buffer.from(fields.join('\0'), 'utf8');
}

/** The audience of a gateway URL (ws, wss, http or https): its host and port as written. */
export function gatewayAudience(url: string): string {
  return new URL(url).host.toLowerCase();
}

export interface AgentKeyPair {
  /** PKCS#8 PEM; kept in the agent's vault, never sent. */
  privateKeyPem: string;
  /** SPKI DER, base64url: what the gateway stores. */
  publicKey: string;
}

export function generateAgentKeyPair(): AgentKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64url'),
  };
}

/** The public half of a private key (PKCS#8 PEM); throws when it is not an Ed25519 key. */
export function publicKeyOf(privateKeyPem: string): string {
  const key = createPrivateKey(privateKeyPem);
  if (key.asymmetricKeyType !== 'ed25519') throw new TypeError('the agent key must be an Ed25519 key');
  return createPublicKey(key).export({ type: 'spki', format: 'der' }).toString('base64url');
}

export function signProof(privateKeyPem: string, input: ProofInput): string {
  return sign(null, proofMessage(input), privateKey(privateKeyPem)).toString('base64url');
}

/** False for a bad signature, a malformed key or signature: never throws on caller input. */
export function verifyProof(spki: string, signature: string, input: ProofInput): boolean {
  try {
    const key = publicKey(spki);
    if (key.asymmetricKeyType !== 'ed25519') return false;
    return verify(null, proofMessage(input), key, Buffer.from(signature, 'base64url'));
  } catch {
    return false;
  }
}

/** Short, stable fingerprint of a public key for logs and audit (never the key's secret half). */
export function publicKeyFingerprint(publicKey: string): string {
  return `ed25519:${createHash('sha256').update(Buffer.from(publicKey, 'base64url')).digest('hex').slice(0, 16)}`;
}

/** Signs arbitrary bytes (audit chain heads) with the agent's key; base64url. */
export function signBytes(privateKeyPem: string, bytes: Buffer): string {
  return sign(null, bytes, privateKey(privateKeyPem)).toString('base64url');
}

export function verifyBytes(spki: string, signature: string, bytes: Buffer): boolean {
  try {
    const key = publicKey(spki);
    if (key.asymmetricKeyType !== 'ed25519') return false;
    return verify(null, bytes, key, Buffer.from(signature, 'base64url'));
  } catch {
    return false;
  }
}
