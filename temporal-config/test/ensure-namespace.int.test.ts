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

  it('creates several fresh namespaces at once, each with its search attributes (no NOT_FOUND race)', async () => {
    const connection = await Connection.connect({ address: testServices().temporalAddress });
    try {
      const names = Array.from({ length: 3 }, () => `vsc-test-${randomBytes(4).toString('hex')}`);
      const results = await Promise.all(names.map((n) => ensureNamespace(connection, n)));
      expect(results.every((r) => r.namespaceCreated)).toBe(true);
      for (const namespace of names) {
        const listed = await connection.operatorService.listSearchAttributes({ namespace });
        expect(Object.keys(listed.customAttributes ?? {})).toEqual(
          expect.arrayContaining(['TenantId', 'ConnectorIds']),
        );
      }
    } finally {
      await connection.close();
    }
  });
});
