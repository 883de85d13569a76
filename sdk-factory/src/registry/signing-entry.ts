// `@vansales/sdk-factory/signing`: what a consumer of artifacts needs to verify them (the agent),
// without the registry's storage (metadata store, buffer store, oasdiff) coming along; and the
// name under which an operation's bundle is stored (the artifact kind `bundle:<name>` it asks for).
export {
  artifactVerifier,
  parseTrustedKeys,
  publicKeyId,
  type ArtifactStatement,
  type ArtifactVerifier,
} from './signing';
export { RegistryError, RegistryErrorCode, isRegistryError } from './registry-error';
export { operationBundleName } from './bundle-name';
