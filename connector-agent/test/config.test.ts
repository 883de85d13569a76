import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateApiKey } from '@vansales/protocol';
import { loadAgentConfig, parseAgentConfig, AgentConfigError, backoffDelay } from '@vansales/connector-agent';

const valid = () => ({
  gatewayUrl: 'wss://gateway.example.com/v1/agent/connect',
  apiKey: generateApiKey('acme'),
  databases: {
    erp: { dialect: 'mysql', host: 'db', port: 3306, user: 'reader', password: 's3cret-pw', database: 'erp' },
  },
});

describe('agent configuration', () => {
  it('parses a valid configuration with defaults', () => {
    const config = parseAgentConfig(valid());
    expect(config.concurrency).toBe(4);
    expect(config.databases.erp?.statementTimeoutMs).toBe(30_000);
  });

  it('refuses a mistyped key offline, naming the setting and not echoing the key', () => {
    const raw = valid();
    raw.apiKey = raw.apiKey.slice(0, 20) + (raw.apiKey[20] === 'x' ? 'y' : 'x') + raw.apiKey.slice(21);
    expect(() => parseAgentConfig(raw)).toThrow(/apiKey: checksum mismatch/);
    try {
      parseAgentConfig(raw);
    } catch (err) {
      expect((err as Error).message).not.toContain(raw.apiKey);
    }
  });

  it('refuses a key carried in the URL', () => {
    expect(() => parseAgentConfig({ ...valid(), gatewayUrl: 'wss://g.example.com/connect?key=abc' })).toThrow(
      /gatewayUrl: must not carry a key/,
    );
  });

  it('names each bad setting', () => {
    const raw = { ...valid(), concurrency: 0, databases: { erp: { ...valid().databases.erp, port: 'x' } } };
    expect(() => parseAgentConfig(raw)).toThrow(AgentConfigError);
    expect(() => parseAgentConfig(raw)).toThrow(/concurrency/);
    expect(() => parseAgentConfig(raw)).toThrow(/databases\.erp\.port/);
  });

  it('says when the file is missing or not JSON', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vsc-agent-'));
    expect(() => loadAgentConfig(join(dir, 'nope.json'))).toThrow(/cannot read agent configuration .*ENOENT/);
    writeFileSync(join(dir, 'bad.json'), '{ nope');
    expect(() => loadAgentConfig(join(dir, 'bad.json'))).toThrow(/is not valid JSON/);
  });
});

describe('reconnect backoff', () => {
  it('grows exponentially up to the ceiling and is jittered', () => {
    expect(backoffDelay(0, 500, 30_000, () => 0)).toBe(250);
    expect(backoffDelay(0, 500, 30_000, () => 1)).toBe(500);
    expect(backoffDelay(3, 500, 30_000, () => 1)).toBe(4000);
    expect(backoffDelay(20, 500, 30_000, () => 1)).toBe(30_000);
    const spread = new Set(Array.from({ length: 50 }, () => backoffDelay(5, 500, 30_000)));
    expect(spread.size).toBeGreaterThan(10);
  });
});
