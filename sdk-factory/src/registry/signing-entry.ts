// `@vansales/sdk-factory/signing`: what a consumer of artifacts needs to verify them (the agent),
// without the registry's storage (metadata store, buffer store, oasdiff) coming along.
export {
  artifactVerifier,
  parseTrustedKeys,
  publicKeyId,
  type ArtifactStatement,
  type ArtifactVerifier,
} from './signing';
export { RegistryError, RegistryErrorCode, isRegistryError } from './registry-error';
