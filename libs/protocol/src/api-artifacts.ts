import { z } from 'zod';

/**
 * The agent's read of the SDK factory's artifacts (issue 11 item 3): the bytes of one artifact of the
 * agent's own tenant, by content hash, with what its registry record says (kind, size, signing key,
 * signature) in headers. The agent verifies everything itself before use, so the gateway serves the
 * record and the bytes as stored. Both routes need the agent's API key and a fresh proof of its key
 * pair (the WebSocket's headers).
 */
export const API_ARTIFACT_ROUTES_PREFIX = '/v1/agent/api-artifacts';
export const apiArtifactPath = (sha256: string) => `${API_ARTIFACT_ROUTES_PREFIX}/${sha256}`;
/** The public keys the gateway's registry signs and verifies with: what an agent pins on first use. */
export const REGISTRY_KEYS_PATH = '/v1/agent/registry-keys';
export const API_ARTIFACT_CONTENT_TYPE = 'application/octet-stream';

export const API_ARTIFACT_SHA256_PATTERN = /^[0-9a-f]{64}$/;
export const ApiArtifactSha256 = z
  .string()
  .regex(API_ARTIFACT_SHA256_PATTERN, 'an artifact is named by its sha256: 64 lower-case hex digits');

/** The kinds a registry record has (a bundle's name is the version's, not the record's). */
export const ApiArtifactRecordKind = z.enum(['spec', 'manifest', 'bundle']);
export type ApiArtifactRecordKind = z.infer<typeof ApiArtifactRecordKind>;

export const ApiArtifactHeader = {
  kind: 'x-vsc-artifact-kind',
  size: 'x-vsc-artifact-size',
  keyId: 'x-vsc-artifact-key-id',
  signature: 'x-vsc-artifact-signature',
} as const;

/** The record's fields as the answer's headers carry them (parsed by the agent). */
export const ApiArtifactRecordHeaders = z.object({
  [ApiArtifactHeader.kind]: ApiArtifactRecordKind,
  [ApiArtifactHeader.size]: z
    .string()
    .regex(/^\d{1,15}$/, 'a byte count')
    .transform(Number),
  [ApiArtifactHeader.keyId]: z.string().regex(/^[0-9a-f]{16}$/, 'a key id: 16 hex digits'),
  [ApiArtifactHeader.signature]: z.string().regex(/^[A-Za-z0-9+/]{86}==$/, 'an Ed25519 signature in base64'),
});

/** What `GET /v1/agent/registry-keys` answers. */
export const RegistryPublicKeys = z.object({
  keys: z
    .array(
      z.object({
        keyId: z.string().regex(/^[0-9a-f]{16}$/),
        /** Ed25519 public key, SPKI DER in base64. */
        publicKey: z
          .string()
          .regex(/^[A-Za-z0-9+/]+={0,2}$/)
          .max(200),
      }),
    )
    .min(1)
    .max(32),
});
export type RegistryPublicKeys = z.infer<typeof RegistryPublicKeys>;
