import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { newPayloadKeySpec } from '@vansales/temporal-config';
import { checkSecretFile } from './private-state';

/**
 * Service passwords for one profile, generated once and kept in a 0600 file in the state
 * directory: nothing is a default password and nothing is printed.
 */
const Secrets = z.object({
  postgresPassword: z.string().min(16),
  mariadbPassword: z.string().min(16),
  redisPassword: z.string().min(16),
  minioAccessKey: z.string().min(8),
  minioSecretKey: z.string().min(16),
  adminToken: z.string().min(32),
  /** VSC_PAYLOAD_KEYS for the gateway and cloud workers of this profile. */
  payloadKeys: z.string().min(10),
  /** VSC_BUFFER_KEYS: master keys of the encrypted temporary buffer. */
  bufferKeys: z.string().min(10),
  /** VSC_BUFFER_TOKEN_SECRET: signs the agents' buffer access tokens. */
  bufferTokenSecret: z.string().min(40),
  /** VSC_AUDIT_SIGNING_KEY: the gateway's Ed25519 key (PKCS#8 PEM, base64) that signs audit checkpoints. */
  auditSigningKey: z.string().min(40),
  /** VSC_CREDENTIALS_KEYS: master keys of the cloud credential store (the gateway's credential REST). */
  credentialsKeys: z.string().min(10),
  /** The gateway's login to the metadata store's PostgreSQL (`./vsc up`): owner of its database. */
  metadataGatewayPassword: z.string().min(16),
  /** The cloud worker's login to the metadata store: only the tables its API operation steps read and write. */
  metadataWorkerPassword: z.string().min(16),
  /**
   * The gateway's SDK registry signing key (Ed25519, PKCS#8 PEM, base64): written to a 0600 file for
   * VSC_REGISTRY_SIGNING_KEY_FILE; the cloud worker gets only its public key (VSC_REGISTRY_TRUSTED_KEYS).
   */
  registrySigningKey: z.string().min(40),
  /** The password of the demo tenant's first owner, whom `./vsc up` bootstraps for the console's sign-in. */
  ownerPassword: z.string().min(12),
  /** The Temporal server's login to PostgreSQL (`./vsc topology`): owner of its two databases only. */
  temporalDbPassword: z.string().min(16),
});
export type Secrets = z.infer<typeof Secrets>;

const token = (bytes: number) => randomBytes(bytes).toString('base64url');
const ed25519Key = () =>
  Buffer.from(generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()).toString(
    'base64',
  );

/** The secrets added after the first version: generated for a new profile and for an older secrets file alike. */
const laterSecrets = () => ({
  payloadKeys: newPayloadKeySpec('k1'),
  // Same format as the payload keys: <id>:<base64 of 32 bytes>.
  bufferKeys: newPayloadKeySpec('k1'),
  bufferTokenSecret: randomBytes(32).toString('base64'),
  auditSigningKey: ed25519Key(),
  credentialsKeys: newPayloadKeySpec('k1'),
  metadataGatewayPassword: token(18),
  metadataWorkerPassword: token(18),
  registrySigningKey: ed25519Key(),
  ownerPassword: token(18),
  temporalDbPassword: token(18),
});

export function loadOrCreateSecrets(dir: string): Secrets {
  const file = join(dir, 'secrets.json');
  if (existsSync(file)) {
    checkSecretFile(file, 'the service passwords file');
    const stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<Secrets>;
    // A secret added in a later version is generated; the existing ones (data folders use them) stay.
    const added = laterSecrets();
    const parsed = Secrets.safeParse({ ...added, ...stored });
    if (parsed.success) {
      if (Object.keys(added).some((k) => !(k in stored)))
        writeFileSync(file, JSON.stringify(parsed.data, null, 2), { mode: 0o600 });
      return parsed.data;
    }
  }
  const secrets: Secrets = {
    postgresPassword: token(18),
    mariadbPassword: token(18),
    redisPassword: token(18),
    minioAccessKey: `vsc${token(6)}`,
    minioSecretKey: token(24),
    adminToken: token(32),
    ...laterSecrets(),
  };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}
