import { randomBytes } from 'node:crypto';
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
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
        searchAttributesAdded: ['TenantId', 'ConnectorId', 'DefinitionId', 'DefinitionVersion', 'ConnectorIds'],
      });
      const second = await ensureNamespace(connection, namespace);
      expect(second).toEqual({ namespaceCreated: false, searchAttributesAdded: [] });
      const listed = await connection.operatorService.listSearchAttributes({ namespace });
      expect(listed.customAttributes).toMatchObject({
        TenantId: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
        DefinitionVersion: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
        ConnectorIds: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
      });
    } finally {
      await connection.close();
    }
  });
});
