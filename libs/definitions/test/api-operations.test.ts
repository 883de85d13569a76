import {
  apiOperationUses,
  DefinitionDocument,
  definitionJsonSchema,
  stepsUsingOperations,
  validateDefinition,
  validateDefinitionStructure,
  type DefinitionDocumentInput,
} from '../src';

const http = (key: string, version = 1, apiId = 'shop') => ({
  endpoint: { kind: 'http' as const, baseUrl: 'https://shop.example/api' },
  path: '/customers',
  operation: { apiId, version, key },
});
const doc: DefinitionDocumentInput = {
  format: 'vansales.definition/v1',
  name: 'customers',
  steps: [
    { id: 'pull', kind: 'source', http: http('listCustomers') },
    {
      id: 'each',
      kind: 'for-each',
      over: 'records',
      body: {
        steps: [
          { id: 'push', kind: 'destination', http: { ...http('updateCustomer', 2), method: 'PUT' } },
          { id: 'plain', kind: 'destination', http: { ...http('x'), operation: undefined, method: 'POST' } },
        ],
        edges: [],
      },
    },
  ],
  edges: [{ from: 'pull', to: 'each' }],
};

describe('API operations of HTTP steps', () => {
  it('are optional, pinned to a version, and in the JSON Schema', () => {
    expect(DefinitionDocument.safeParse(doc).success).toBe(true);
    const bad = structuredClone(doc);
    (bad.steps[0] as { http: { operation: { version: number } } }).http.operation.version = 0;
    expect(validateDefinitionStructure(bad).issues).toEqual([
      expect.objectContaining({ path: 'steps[0].http.operation.version', code: 'invalid-field', stepId: 'pull' }),
    ]);
    const noVersion = structuredClone(doc);
    delete (noVersion.steps[0] as { http: { operation: { version?: number } } }).http.operation.version;
    expect(validateDefinitionStructure(noVersion).ok).toBe(false);
    expect(JSON.stringify(definitionJsonSchema())).toContain('"apiId"');
  });

  it('are listed per step, for-each bodies included', () => {
    const parsed = DefinitionDocument.parse(doc);
    expect(apiOperationUses(parsed)).toEqual([
      {
        stepId: 'pull',
        path: 'steps[0].http.operation',
        stepKind: 'source',
        operation: http('listCustomers').operation,
      },
      {
        stepId: 'push',
        path: 'steps[1].body.steps[0].http.operation',
        stepKind: 'destination',
        operation: { apiId: 'shop', version: 2, key: 'updateCustomer' },
      },
    ]);
    expect(stepsUsingOperations(parsed, 'shop', ['updateCustomer']).map((u) => u.stepId)).toEqual(['push']);
    expect(stepsUsingOperations(parsed, 'shop', ['updateCustomer'], [1])).toEqual([]);
    expect(stepsUsingOperations(parsed, 'other', ['listCustomers'])).toEqual([]);
  });

  it('are checked against the registry only when a lookup is given, each answer asked once', async () => {
    expect((await validateDefinition(doc)).ok).toBe(true);
    const asked: string[] = [];
    const result = await validateDefinition(doc, {
      apiOperation(ref) {
        asked.push(`${ref.apiId}@${ref.version}:${ref.key}`);
        return ref.key === 'listCustomers' ? 'ok' : 'unknown-operation';
      },
    });
    expect(asked).toEqual(['shop@1:listCustomers', 'shop@2:updateCustomer']);
    expect(result.ok).toBe(false);
    expect(result.issues).toEqual([
      expect.objectContaining({
        stepId: 'push',
        path: 'steps[1].body.steps[0].http.operation',
        code: 'unknown-api-operation',
        message: expect.stringMatching(/operation "updateCustomer", which version 2 of API "shop" does not have/),
      }),
    ]);
  });
});
