export {
  openVault,
  writeFileAtomic,
  VaultError,
  VaultErrorCode,
  VAULT_FILE,
  VAULT_KEY_FILE,
  type Vault,
  type OpenVaultOptions,
} from './vault';
export { resolveSecrets, hasVaultReferences, isVaultReference } from './resolve-secrets';
