import { describedProtectedColumns, describedWritable, type PolicyDescribeOutputT } from '@vansales/protocol';

const described: PolicyDescribeOutputT = {
  writableTables: [
    { database: 'local', table: 'crm.*' },
    { database: 'local', table: 'orders' },
  ],
  apis: [],
  protectedColumns: [
    { database: 'erp', table: 'customer', column: 'email', action: 'mask' },
    { database: 'erp', table: 'hr.*', column: 'salary', action: 'hash' },
    { database: 'erp', table: 'customer', column: 'password', action: 'drop' },
    { database: 'other', table: '*', column: 'phone', action: 'mask' },
  ],
};

describe('reading a described site policy', () => {
  it.each([
    [
      'a table read whole: every masked or hashed column of it',
      { schema: 'public', name: 'customer' },
      undefined,
      ['email'],
    ],
    // Without a schema the table may be hr's: a protective rule errs on the safe side.
    ['a table without schema', { name: 'customer' }, undefined, ['email', 'salary']],
    ['only the columns read', { name: 'customer' }, ['customer_id', 'name'], []],
    ['a protected column among those read', { name: 'customer' }, ['customer_id', 'email'], ['email']],
    ['a schema pattern', { schema: 'hr', name: 'staff' }, undefined, ['salary']],
    ['a table of another schema', { schema: 'sales', name: 'staff' }, undefined, []],
    ['a table without schema matches a schema pattern', { name: 'staff' }, undefined, ['salary']],
    ['SQL text: every rule on the database', undefined, undefined, ['email', 'salary']],
  ] as const)('%s', (_what, table, columns, expected) => {
    expect(describedProtectedColumns(described, 'erp', table, columns)).toEqual(expected);
  });

  it('names no protected column from an agent that does not report them', () => {
    expect(describedProtectedColumns({}, 'erp', { name: 'customer' })).toEqual([]);
  });

  it('answers writable tables with the same patterns', () => {
    expect(describedWritable(described, 'local', { schema: 'crm', name: 'contacts' })).toBe(true);
    expect(describedWritable(described, 'local', { name: 'orders' })).toBe(true);
    expect(describedWritable(described, 'local', { schema: 'public', name: 'invoices' })).toBe(false);
    expect(describedWritable(described, 'erp', { name: 'orders' })).toBe(false);
  });
});
