import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import {
  AGENT_CHALLENGE_PATH,
  AGENT_ENROL_PATH,
  AgentChallenge,
  AgentProofHeader,
  gatewayAudience,
  generateAgentKeyPair,
  MACHINE_ID_HEADER,
  ProofPurpose,
  publicKeyOf,
  signProof,
} from '@vansales/protocol';
import type { Vault } from './vault';
import { createGatewayNetwork, retryAfterMs, type GatewayNetwork } from './net';

/** Name of the agent's private key (PKCS#8 PEM) in its vault. */
export const IDENTITY_KEY_SECRET = 'agentIdentityKey';

/**
 * The agent's key pair from its vault, made and stored there when missing (`init`, and `run` on an
 * agent installed before key pairs existed). The private key never leaves the vault but to sign.
 */
export function ensureIdentityKey(vault: Pick<Vault, 'get' | 'set'>): { privateKeyPem: string; created: boolean } {
  const existing = vault.get(IDENTITY_KEY_SECRET);
  if (existing) return { privateKeyPem: existing, created: false };
  const pair = generateAgentKeyPair();
  vault.set(IDENTITY_KEY_SECRET, pair.privateKeyPem);
  return { privateKeyPem: pair.privateKeyPem, created: true };
}

/** The gateway refused the key or its proof; `reason` is the gateway's (key-revoked, key-bound-elsewhere…). */
export class GatewayAuthError extends Error {
  override name = 'GatewayAuthError';
  constructor(
    readonly status: number,
    message: string,
    readonly reason?: string,
    /** A 429/503 answer's Retry-After, in ms (capped): the agent waits at least that long. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export interface GatewayAuthOptions {
  /** ws(s):// URL of the agent endpoint; the HTTP calls go to the same origin. */
  gatewayUrl: string;
  apiKey: string;
  /** PKCS#8 PEM of the agent's Ed25519 private key. */
  identityKey: string;
  /**
   * How to reach the gateway (proxy, trusted CAs); default: from the environment (HTTPS_PROXY,
   * NO_PROXY) and Node's roots, as `init` has no agent.json yet.
   */
  network?: GatewayNetwork;
  /** Informational machine label (and the old binding, checked once when such a key enrols). */
  machineLabel?: string;
}

const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * The agent's side of the key-pair proof: asks for a challenge, enrols its public key when the
 * gateway has none for the key, and signs the challenge for the WebSocket upgrade. Everything it
 * signs names the gateway as the agent dialled it, so a proof is worth nothing to another gateway.
 */
export function createGatewayAuth(options: GatewayAuthOptions) {
  const ws = new URL(options.gatewayUrl);
  const secure = ws.protocol === 'wss:';
  const origin = `${secure ? 'https' : 'http'}://${ws.host}`;
  const audience = gatewayAudience(options.gatewayUrl);
  const publicKey = publicKeyOf(options.identityKey);
  const network = options.network ?? createGatewayNetwork({ gatewayUrl: options.gatewayUrl });

  const post = (path: string, body: unknown): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const payload = Buffer.from(JSON.stringify(body ?? {}));
      const req = (secure ? httpsRequest : httpRequest)(
        new URL(path, origin),
        {
          method: 'POST',
          headers: {
            authorization: `Bearer ${options.apiKey}`,
            'content-type': 'application/json',
            'content-length': String(payload.length),
            ...(options.machineLabel ? { [MACHINE_ID_HEADER]: options.machineLabel } : {}),
          },
          ...(secure && network.ca ? { ca: network.ca } : {}),
          ...(network.agent ? { agent: network.agent } : {}),
          timeout: 15_000,
        },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => {
            if (text.length < MAX_ANSWER_BYTES) text += d;
          });
          res.on('end', () => {
            let json: unknown;
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
            const status = res.statusCode ?? 0;
            // The proxy's own answer to the CONNECT (407, 403) is not the gateway's: never a refused key.
            const refused = network.proxyRefusal(req);
            if (refused) return reject(refused);
            if (status >= 200 && status < 300) return resolve(json);
            const error = (json as { error?: { message?: string; reason?: string } } | undefined)?.error;
            const wait = status === 429 || status === 503 ? retryAfterMs(res.headers['retry-after']) : undefined;
            reject(new GatewayAuthError(status, error?.message ?? `HTTP ${status}`, error?.reason, wait));
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error('the gateway did not answer in 15 s')));
      req.on('error', reject);
      req.end(payload);
    });

  const challenge = async (): Promise<AgentChallenge> => {
    const parsed = AgentChallenge.safeParse(await post(AGENT_CHALLENGE_PATH, {}));
    if (!parsed.success) throw new Error('the gateway answered the challenge request with something else');
    return parsed.data;
  };

  const sign = (c: AgentChallenge, purpose: ProofPurpose, withKey?: string) =>
    signProof(options.identityKey, {
      purpose,
      audience,
      tenantId: c.tenantId,
      connectorId: c.connectorId,
      challengeId: c.challengeId,
      nonce: c.nonce,
      publicKey: withKey,
    });

  const enrol = async (): Promise<{ connectorId: string; publicKey: string; enrolled: boolean }> => {
    const c = await challenge();
    return (await post(AGENT_ENROL_PATH, {
      challengeId: c.challengeId,
      publicKey,
      signature: sign(c, ProofPurpose.enrol, publicKey),
    })) as { connectorId: string; publicKey: string; enrolled: boolean };
  };

  async function proven(): Promise<{ headers: Record<string, string>; tenantId: string; connectorId: string }> {
    let c = await challenge();
    if (!c.enrolled) {
      await enrol();
      c = await challenge();
    }
    return {
      tenantId: c.tenantId,
      connectorId: c.connectorId,
      headers: {
        authorization: `Bearer ${options.apiKey}`,
        [AgentProofHeader.challenge]: c.challengeId,
        [AgentProofHeader.proof]: sign(c, ProofPurpose.connect),
        ...(options.machineLabel ? { [MACHINE_ID_HEADER]: options.machineLabel } : {}),
      },
    };
  }

  return {
    publicKey,
    /** Enrols this agent's public key (idempotent for the key already enrolled). */
    enrol,
    /**
     * Headers that open the WebSocket: a fresh challenge signed for `agent-connect`. Enrols first
     * when the gateway has no key pair for the key yet (the first run after `init` could not reach
     * the gateway, or an agent upgraded from before key pairs).
     */
    connectHeaders: async (): Promise<Record<string, string>> => (await proven()).headers,
    /**
     * The same proof for the agent's other authenticated HTTP calls (artifacts), with the tenant and
     * connector the gateway resolved the key to.
     */
    proven,
    /** The gateway's origin (http or https) for the agent's HTTP calls; `ca` is what TLS trusts. */
    origin,
    ca: network.ca,
    /** The proxy (or none) and CAs every call to this gateway goes through. */
    network,
  };
}
export type GatewayAuth = ReturnType<typeof createGatewayAuth>;
