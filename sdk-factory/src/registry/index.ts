// The SDK factory's artifact registry (issue 11 item 4): versions, signed content-addressed artifacts,
// breaking changes (oasdiff) and what they mean for definitions. Entry `@vansales/sdk-factory/registry`.
export { RegistryError, RegistryErrorCode, isRegistryError } from './registry-error';
export { RegistrySettings, loadRegistryConfig, oasdiffBinaryPath, OASDIFF_VERSION } from './config';
export {
  artifactSigner,
  artifactVerifier,
  loadOrCreateSigningKey,
  parseTrustedKeys,
  publicKeyId,
  type ArtifactSigner,
  type ArtifactVerifier,
  type ArtifactStatement,
} from './signing';
export { ARTIFACT_PREFIX, artifactKey, sha256Hex } from './artifact-store';
export { oasdiffRunner, type OasdiffRunner, type OasdiffChange } from './oasdiff';
export {
  createArtifactRegistry,
  mapToOperations,
  type ArtifactRegistry,
  type ArtifactRegistryDeps,
  type RegisterVersionInput,
  type BreakingChange,
  type BreakingReport,
} from './registry';
export {
  findAffectedDefinitions,
  upgradeImpact,
  type DefinitionSource,
  type DefinitionImpact,
  type AffectedStep,
  type UpgradeImpact,
} from './upgrade-impact';
export { openArtifactReader, openArtifactRegistry } from './open-registry';
export { operationBundleName } from './bundle-name';
export {
  attachOperationBundles,
  hasOperationBundles,
  loadOperation,
  operationArtifactHashes,
  type OperationRef,
} from './operation-bundles';
