import { randomBytes } from 'node:crypto';
import { Connection } from '@temporalio/client';
import { ensureNamespace } from '@vansales/temporal-config';
import { testServices } from '@vansales/test-kit';

describe('ensureNamespace on the real Temporal dev server', () => {
  it('creates a namespace with the search attributes once, and is a no-op the second time', async () => {
    const connection = await Connection.connect({ address: testServices().temporalAddress });
    const namespace = `vsc-test-${randomBytes(4).toString('hex')}`;
    try {
      const first = await ensureNamespace(connection, namespace);
      expect(first).toEqual({
        namespaceCreated: true,
        searchAttributesAdded: ['TenantId', 'ConnectorId', 'DefinitionId'],
      });
      const second = await ensureNamespace(connection, namespace);
      expect(second).toEqual({ namespaceCreated: false, searchAttributesAdded: [] });
      const listed = await connection.operatorService.listSearchAttributes({ namespace });
      expect(Object.keys(listed.customAttributes ?? {})).toEqual(
        expect.arrayContaining(['TenantId', 'ConnectorId', 'DefinitionId']),
      );
    } finally {
      await connection.close();
    }
  });
});
