import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApiArtifactClient, createGatewayAuth, type OperationTable } from '@vansales/connector-agent';
import type { Platform } from './harness';

/**
 * The agent of a site whose policy names the Sakila user API `erp` (its base URL, the paths it may
 * call, the vault entry of its key, which never leaves the site), with the agent's own artifact
 * client (operation manifests and bundles by hash from the gateway, verified under its pinned keys),
 * each artifact kind it fetched recorded in `fetched`; `operations` wraps the agent's operations.
 */
export async function startErpSiteAgent(
  platform: Platform,
  connector: { apiKey: string },
  erp: { url: string; apiKey: string; paths: string[] },
  operations?: (table: OperationTable) => OperationTable,
): Promise<{ agent: ReturnType<Platform['startAgent']>; fetched: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'vsc-erp-site-'));
  const policyFile = join(dir, 'policy.json');
  writeFileSync(
    policyFile,
    JSON.stringify({
      apis: {
        erp: {
          baseUrl: erp.url,
          credential: { kind: 'header', name: 'x-api-key', vault: 'api.erp.key' },
          methods: ['GET'],
          paths: erp.paths,
        },
      },
    }),
  );
  const fetched: string[] = [];
  const artifactClient = createApiArtifactClient({
    auth: createGatewayAuth({
      gatewayUrl: platform.gatewayWsUrl,
      apiKey: connector.apiKey,
      identityKey: platform.machineKey(),
    }),
    cacheDir: join(dir, 'artifacts'),
  });
  const agent = platform.startAgent(
    { apiKey: connector.apiKey, policyFile },
    {
      secrets: (name) => (name === 'api.erp.key' ? erp.apiKey : undefined),
      artifacts: {
        fetch: async (sha256, kind) => {
          fetched.push(kind);
          return artifactClient.fetch(sha256, kind);
        },
      },
      ...(operations ? { operations } : {}),
    },
  );
  await agent.welcomed;
  return { agent, fetched };
}
