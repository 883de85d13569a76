import type { ApiVersionRow } from '@vansales/metadata';
import { operationBundleName } from '@vansales/sdk-factory/registry';
import { apiOperationPreparer, composePreparers } from '../src/agent-hub/api-operation-artifacts';

// A site step that names an API operation leaves for the agent with the hashes of its artifacts, taken
// from the connection's own tenant's registry; what a workflow wrote there is never what the agent gets.
const manifestHash = 'a'.repeat(64);
const bundleHash = 'b'.repeat(64);
const versions: Record<string, Partial<ApiVersionRow>> = {
  'acme/erp/1': { manifestHash, artifacts: { [`bundle:${operationBundleName('listCustomers')}`]: bundleHash } },
};
const registry = {
  getVersion: async (tenantId: string, apiId: string, version: number) =>
    versions[`${tenantId}/${apiId}/${version}`] as ApiVersionRow | undefined,
};
const prepare = apiOperationPreparer(registry);
const identity = (tenantId: string) => ({ tenantId, connectorId: 'c1', sessionId: 'session-0000000001' });

describe('the artifacts of a site step’s API operation', () => {
  it('names both hashes from the registry, replacing any the workflow wrote', async () => {
    const forged = 'f'.repeat(64);
    const prepared = await prepare(identity('acme'), 'http.read', {
      api: 'erp',
      path: '/customers',
      operation: { apiId: 'erp', version: 1, key: 'listCustomers', manifestSha256: forged, bundleSha256: forged },
    });
    expect(prepared).toEqual({
      api: 'erp',
      path: '/customers',
      operation: {
        apiId: 'erp',
        version: 1,
        key: 'listCustomers',
        manifestSha256: manifestHash,
        bundleSha256: bundleHash,
      },
    });
  });

  it('ends the step when the tenant’s registry lacks the version or the operation’s bundle', async () => {
    const op = (tenant: string, key: string) =>
      prepare(identity(tenant), 'http.write', { operation: { apiId: 'erp', version: 1, key } }).then(
        () => 'ok',
        (e: { message: string; nonRetryable: boolean }) => `${e.nonRetryable} ${e.message}`,
      );
    expect(await op('other', 'listCustomers')).toBe('true API erp has no version 1 in tenant other');
    expect(await op('acme', 'createCustomer')).toMatch(
      /^true API erp v1 has no sandbox SDK for operation "createCustomer"/,
    );
  });

  it('leaves other tasks and steps without an operation as they are, and composes with the buffer grants', async () => {
    const plain = { api: 'erp', path: '/x' };
    expect(await prepare(identity('acme'), 'http.read', plain)).toBe(plain);
    expect(await prepare(identity('acme'), 'sql.query', { operation: 'x' })).toEqual({ operation: 'x' });
    const both = composePreparers(async (_i, _o, input) => ({ ...(input as object), buffer: 'grant' }), prepare);
    expect(
      await both(identity('acme'), 'http.read', { operation: { apiId: 'erp', version: 1, key: 'listCustomers' } }),
    ).toMatchObject({ buffer: 'grant', operation: { bundleSha256: bundleHash } });
  });
});
