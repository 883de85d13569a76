/** The artifact cache's folder beside agent.json when `apiArtifacts.cacheDir` is unset (init pins the registry keys there). */
export const API_ARTIFACT_CACHE_DIR = 'api-artifacts';
