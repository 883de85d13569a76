import { loadGatewayConfig } from '@vansales/gateway';

describe('gateway configuration', () => {
  const base = { VSC_ADMIN_TOKEN: 'x'.repeat(40), VSC_PAYLOAD_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}` };

  it('applies documented defaults', () => {
    const c = loadGatewayConfig(base);
    expect(c).toMatchObject({ VSC_GATEWAY_HOST: '127.0.0.1', VSC_GATEWAY_PORT: 8700, TEMPORAL_ADDRESS: '127.0.0.1:7233', TEMPORAL_NAMESPACE: 'vansales', VSC_AGENT_HEARTBEAT_MS: 30_000 });
    expect(c.DATABASE_URL).toBeUndefined();
  });

  it('refuses a bad setting by name', () => {
    expect(() => loadGatewayConfig({ ...base, VSC_GATEWAY_PORT: 'eighty' })).toThrow(/VSC_GATEWAY_PORT/);
    expect(() => loadGatewayConfig({ ...base, TEMPORAL_ADDRESS: 'http://x' })).toThrow(/TEMPORAL_ADDRESS: expected host:port/);
    expect(() => loadGatewayConfig({ ...base, DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL/);
    expect(() => loadGatewayConfig({ ...base, VSC_ADMIN_TOKEN: 'short' })).toThrow(/VSC_ADMIN_TOKEN: must be at least 32 characters/);
    expect(() => loadGatewayConfig({ ...base, VSC_PAYLOAD_KEYS: 'k1:c2hvcnQ=' })).toThrow(/VSC_PAYLOAD_KEYS: key k1 is 5 bytes; AES-256 needs 32/);
    expect(() => loadGatewayConfig({ VSC_ADMIN_TOKEN: 'x'.repeat(40) })).toThrow(/VSC_PAYLOAD_KEYS/);
  });
});
