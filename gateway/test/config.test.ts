import { homedir } from 'node:os';
import { join } from 'node:path';
import { loadGatewayConfig } from '@vansales/gateway';

describe('gateway configuration', () => {
  const base = {
    VSC_ADMIN_TOKEN: 'x'.repeat(40),
    VSC_PAYLOAD_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
    VSC_BUFFER_KEYS: `b1:${Buffer.alloc(32, 8).toString('base64')}`,
    VSC_BUFFER_TOKEN_SECRET: Buffer.alloc(32, 9).toString('base64'),
    VSC_REDIS_URL: 'redis://127.0.0.1:6379/0',
  };

  it('applies documented defaults', () => {
    const c = loadGatewayConfig({ ...base, XDG_STATE_HOME: undefined });
    expect(c).toMatchObject({
      VSC_GATEWAY_HOST: '127.0.0.1',
      VSC_GATEWAY_PORT: 8700,
      TEMPORAL_ADDRESS: '127.0.0.1:7233',
      TEMPORAL_NAMESPACE: 'vansales',
      VSC_AGENT_HEARTBEAT_MS: 30_000,
    });
    // One poll per agent Worker: above one, the SDK's poller autoscaler costs a 100 ms timer per idle agent.
    expect(c.VSC_AGENT_MAX_POLLERS).toBe(1);
    expect(c.DATABASE_URL).toBeUndefined();
    expect(c).toMatchObject({
      VSC_BUFFER_STORE: 'local',
      VSC_BUFFER_DIR: join(homedir(), '.local', 'state', 'vansales-connect', 'gateway', 'buffer'),
      VSC_BUFFER_TTL_SECONDS: 86_400,
    });
    expect(c).toMatchObject({ VSC_GATEWAY_REQUEST_TIMEOUT_MS: 300_000, VSC_GATEWAY_CONNECTION_TIMEOUT_MS: 3_660_000 });
  });

  it('sizes the timeouts for a 32 MiB chunk over a slow uplink and for a synchronous query waiting out its default offline hour', () => {
    const c = loadGatewayConfig(base);
    expect((32 * 1024 * 1024) / (c.VSC_GATEWAY_REQUEST_TIMEOUT_MS / 1000)).toBeLessThan(120 * 1024); // bytes/s it needs
    expect(c.VSC_GATEWAY_CONNECTION_TIMEOUT_MS).toBeGreaterThan(3600 * 1000);
    expect(() => loadGatewayConfig({ ...base, VSC_GATEWAY_REQUEST_TIMEOUT_MS: '10' })).toThrow(
      /VSC_GATEWAY_REQUEST_TIMEOUT_MS/,
    );
  });

  it('allows an unauthenticated codec endpoint only on a loopback listener', () => {
    expect(() => loadGatewayConfig({ ...base, VSC_CODEC_AUTH: 'none', VSC_GATEWAY_HOST: '0.0.0.0' })).toThrow(
      /VSC_CODEC_AUTH: VSC_CODEC_AUTH=none .* only allowed when VSC_GATEWAY_HOST is a loopback address/,
    );
    expect(() => loadGatewayConfig({ ...base, VSC_CODEC_AUTH: 'none', VSC_GATEWAY_HOST: '10.0.0.5' })).toThrow(
      /VSC_CODEC_AUTH/,
    );
    expect(loadGatewayConfig({ ...base, VSC_CODEC_AUTH: 'none' }).VSC_CODEC_AUTH).toBe('none');
    expect(loadGatewayConfig({ ...base, VSC_CODEC_AUTH: 'none', VSC_GATEWAY_HOST: '::1' }).VSC_CODEC_AUTH).toBe('none');
  });

  it('takes Temporal connection settings by the SDK names and refuses contradictions by name', () => {
    const c = loadGatewayConfig({
      ...base,
      TEMPORAL_ADDRESS: 'ns.a1b2c.tmprl.cloud:7233',
      TEMPORAL_API_KEY: 'secret-api-key',
    });
    expect(c.TEMPORAL_API_KEY).toBe('secret-api-key');
    expect(() => loadGatewayConfig({ ...base, TEMPORAL_TLS_CLIENT_CERT_PATH: '/x/cert.pem' })).toThrow(
      /TEMPORAL_TLS_CLIENT_KEY_PATH: mTLS needs both a client certificate and its key/,
    );
    expect(() =>
      loadGatewayConfig({ ...base, TEMPORAL_TLS: 'false', TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/x/ca.pem' }),
    ).toThrow(/TEMPORAL_TLS: TEMPORAL_TLS=false contradicts TEMPORAL_TLS_SERVER_CA_CERT_PATH/);
    expect(() =>
      loadGatewayConfig({
        ...base,
        TEMPORAL_ADDRESS: 'temporal.example.com:7233',
        TEMPORAL_TLS: 'false',
        TEMPORAL_API_KEY: 'k',
      }),
    ).toThrow(/would send the key in clear text/);
    expect(() => loadGatewayConfig({ ...base, TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: 'true' })).toThrow(
      /TEMPORAL_TLS_DISABLE_HOST_VERIFICATION: not supported/,
    );
    expect(() => loadGatewayConfig({ ...base, TEMPORAL_TLS: 'yes' })).toThrow(/TEMPORAL_TLS/);
  });

  it('refuses a bad setting by name', () => {
    expect(() => loadGatewayConfig({ ...base, VSC_GATEWAY_PORT: 'eighty' })).toThrow(/VSC_GATEWAY_PORT/);
    expect(() => loadGatewayConfig({ ...base, TEMPORAL_ADDRESS: 'http://x' })).toThrow(
      /TEMPORAL_ADDRESS: expected host:port/,
    );
    expect(() => loadGatewayConfig({ ...base, DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL/);
    expect(() => loadGatewayConfig({ ...base, VSC_ADMIN_TOKEN: 'short' })).toThrow(
      /VSC_ADMIN_TOKEN: must be at least 32 characters/,
    );
    expect(() => loadGatewayConfig({ ...base, VSC_PAYLOAD_KEYS: 'k1:c2hvcnQ=' })).toThrow(
      /VSC_PAYLOAD_KEYS: key k1 is 5 bytes; AES-256 needs 32/,
    );
    expect(() => loadGatewayConfig({ VSC_ADMIN_TOKEN: 'x'.repeat(40) })).toThrow(/VSC_PAYLOAD_KEYS/);
    expect(() => loadGatewayConfig({ ...base, VSC_BUFFER_KEYS: undefined })).toThrow(/VSC_BUFFER_KEYS/);
    expect(() => loadGatewayConfig({ ...base, VSC_BUFFER_TOKEN_SECRET: 'c2hvcnQ=' })).toThrow(
      /VSC_BUFFER_TOKEN_SECRET: the token secret is 5 bytes/,
    );
    expect(() => loadGatewayConfig({ ...base, VSC_BUFFER_STORE: 's3' })).toThrow(
      /VSC_BUFFER_S3_BUCKET: required when VSC_BUFFER_STORE is s3/,
    );
  });

  it('runs as a Redis cluster by default, and alone only when told so', () => {
    const c = loadGatewayConfig(base);
    expect(c).toMatchObject({
      VSC_GATEWAY_CLUSTER: 'redis',
      VSC_SESSION_LEASE_MS: 15_000,
      VSC_AGENT_MISSED_HEARTBEATS: 3,
    });
    // No Redis and no explicit single-node mode: the gateway does not start, and says what to set.
    expect(() => loadGatewayConfig({ ...base, VSC_REDIS_URL: undefined })).toThrow(
      /VSC_REDIS_URL: set VSC_REDIS_URL .* or VSC_GATEWAY_CLUSTER=off/,
    );
    expect(
      loadGatewayConfig({ ...base, VSC_REDIS_URL: undefined, VSC_GATEWAY_CLUSTER: 'off' }).VSC_GATEWAY_CLUSTER,
    ).toBe('off');
    expect(() => loadGatewayConfig({ ...base, VSC_REDIS_URL: 'http://x:6379' })).toThrow(
      /VSC_REDIS_URL: must be a redis/,
    );
  });
});
