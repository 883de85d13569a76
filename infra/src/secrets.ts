import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

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
});
export type Secrets = z.infer<typeof Secrets>;

const token = (bytes: number) => randomBytes(bytes).toString('base64url');

export function loadOrCreateSecrets(dir: string): Secrets {
  const file = join(dir, 'secrets.json');
  if (existsSync(file)) {
    const parsed = Secrets.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (parsed.success) return parsed.data;
  }
  const secrets: Secrets = {
    postgresPassword: token(18),
    mariadbPassword: token(18),
    redisPassword: token(18),
    minioAccessKey: `vsc${token(6)}`,
    minioSecretKey: token(24),
    adminToken: token(32),
  };
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}
