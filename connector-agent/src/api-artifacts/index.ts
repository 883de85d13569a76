// The agent's client of the SDK factory's artifact registry (issue 11 item 3).
export {
  createApiArtifactClient,
  type ApiArtifactClient,
  type ApiArtifactClientOptions,
  type ApiArtifactKind,
} from './api-artifact-client';
export { ApiArtifactError, ApiArtifactErrorCode, isApiArtifactError } from './api-artifact-error';
export { API_ARTIFACT_CACHE_DIR } from './cache-dir';
