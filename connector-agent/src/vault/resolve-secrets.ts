import { VaultError, VaultErrorCode, type Vault } from './vault';

/**
 * A secret in agent.json is written as `{ "vault": "<name>" }` in place of its value, e.g.
 * `"password": { "vault": "database.erp.password" }` or `"apiKey": { "vault": "apiKey" }`.
 * Only an object whose single member is a string `vault` is a reference.
 */
export function isVaultReference(value: unknown): value is { vault: string } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === 'vault' && typeof (value as { vault: unknown }).vault === 'string';
}

/** True when the raw configuration refers to the vault anywhere (so the vault needs opening). */
export function hasVaultReferences(raw: unknown): boolean {
  if (isVaultReference(raw)) return true;
  if (raw === null || typeof raw !== 'object') return false;
  return Object.values(raw).some(hasVaultReferences);
}

/**
 * A copy of the raw (parsed JSON, not yet validated) configuration with every vault reference
 * replaced by the stored secret. A missing secret throws VaultError `missing-secret` naming the
 * setting and the secret's name; values are never part of a message.
 */
export function resolveSecrets(raw: unknown, vault: Pick<Vault, 'get'>): unknown {
  const walk = (value: unknown, path: string[]): unknown => {
    if (isVaultReference(value)) {
      const secret = vault.get(value.vault);
      if (secret === undefined) {
        throw new VaultError(
          VaultErrorCode.missingSecret,
          `${path.join('.') || '(root)'} refers to the vault secret "${value.vault}", which the vault does not hold; store it with mini-connector init`,
        );
      }
      return secret;
    }
    if (Array.isArray(value)) return value.map((v, i) => walk(v, [...path, String(i)]));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, [...path, k])]));
    }
    return value;
  };
  return walk(raw, []);
}
