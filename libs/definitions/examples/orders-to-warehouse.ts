/**
 * A runnable example of a code-first definition: orders from a site's ERP (MariaDB, through its
 * connector), joined in the cloud with customers from a SaaS API, loaded into the warehouse; big
 * batches wait for an approval first. Publish it with:
 *
 *   VSC_GATEWAY_URL=http://127.0.0.1:8700 VSC_ADMIN_TOKEN=... VSC_TENANT=acme VSC_CONNECTOR=<connector id> \
 *     node_modules/.bin/tsx libs/definitions/examples/orders-to-warehouse.ts
 */
import { cloudDb, defineIntegration, httpApi, publishDefinition, siteDb } from '@vansales/definitions/builder';

export function ordersToWarehouse(connectorId: string) {
  return defineIntegration('orders to the warehouse')
    .describe('ERP orders joined with CRM customers, loaded to the warehouse every 15 minutes')
    .trigger({ kind: 'schedule', every: '15m', catchupWindow: '1h', overlap: 'skip' })
    .trigger({ kind: 'api' })
    .source('orders', {
      db: {
        endpoint: siteDb(connectorId, 'erp'),
        table: { name: 'orders' },
        keyColumns: ['order_id'],
        incremental: { column: 'updated_at' },
      },
      onError: { retry: { maximumAttempts: 10 } },
    })
    .source('customers', {
      http: { endpoint: httpApi('https://crm.example.com/api', 'crm-token'), path: '/customers', records: 'data' },
    })
    .join('with-customer', { left: 'orders', right: 'customers' }, { leftKey: ['customer_id'], rightKey: ['id'] })
    .transform('shape', {
      op: 'map',
      fields: { order_id: 'order_id', customer: 'name', total: 'amount', updated_at: 'updated_at' },
    })
    .branch('big-batch', '$count($) > 10000', {
      then: (line) => line.waitForSignal('approval', { timeout: '1d' }).to('load-approved', warehouseLoad),
      else: (line) => line.to('load', warehouseLoad),
    });
}

const warehouseLoad = {
  db: { endpoint: cloudDb('warehouse'), table: { schema: 'sales', name: 'orders' }, keyColumns: ['order_id'] },
};

async function main(): Promise<void> {
  const env = (name: string) => {
    const value = process.env[name];
    if (!value) throw new Error(`set ${name} (see the comment at the top of this file)`);
    return value;
  };
  const result = await publishDefinition({
    gatewayUrl: env('VSC_GATEWAY_URL'),
    adminToken: env('VSC_ADMIN_TOKEN'),
    tenantId: env('VSC_TENANT'),
    definitionId: 'orders-to-warehouse',
    document: ordersToWarehouse(env('VSC_CONNECTOR')).build(),
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (require.main === module)
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
