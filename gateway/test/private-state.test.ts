import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadGatewayConfig } from '@vansales/gateway';
import { metadataTarget } from '@vansales/metadata';
import { checkPrivateState } from '../src/private-state';

const base = {
  VSC_ADMIN_TOKEN: 'x'.repeat(40),
  VSC_PAYLOAD_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
  VSC_BUFFER_KEYS: `b1:${Buffer.alloc(32, 8).toString('base64')}`,
  VSC_BUFFER_TOKEN_SECRET: Buffer.alloc(32, 9).toString('base64'),
  VSC_GATEWAY_CLUSTER: 'off',
};
const mode = (path: string) => statSync(path).mode & 0o777;

let work: string;
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'vsc-private-'));
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

describe('defaults that lose nothing', () => {
  it('keeps the metadata store and the buffer under the state folder, never in memory or /tmp', () => {
    const c = loadGatewayConfig({ ...base, XDG_STATE_HOME: join(work, 'xdg') });
    const state = join(work, 'xdg', 'vansales-connect', 'gateway');
    expect(c.VSC_GATEWAY_STATE_DIR).toBe(state);
    expect(c.VSC_METADATA_DIR).toBe(join(state, 'metadata'));
    expect(c.VSC_BUFFER_DIR).toBe(join(state, 'buffer'));
    expect(metadataTarget(c)).toEqual({ kind: 'pglite', dir: join(state, 'metadata') });
    const explicit = loadGatewayConfig({ ...base, VSC_GATEWAY_STATE_DIR: join(work, 's') });
    expect(explicit.VSC_BUFFER_DIR).toBe(join(work, 's', 'buffer'));
  });

  it('keeps the store in memory only when asked for by name', () => {
    const c = loadGatewayConfig({ ...base, VSC_METADATA_DIR: ':memory:' });
    expect(metadataTarget(c)).toEqual({ kind: 'pglite' });
    // A caller that names nothing gets an error, not a store that forgets.
    expect(() => metadataTarget({})).toThrow(/VSC_METADATA_DIR: set a folder.*:memory:/);
    expect(metadataTarget({ DATABASE_URL: 'postgres://h/db' })).toEqual({ kind: 'postgres', url: 'postgres://h/db' });
  });
});

describe('state folders 0700 and secrets 0600, checked at start', () => {
  it('creates the state, metadata and buffer folders 0700', () => {
    const c = loadGatewayConfig({ ...base, VSC_GATEWAY_STATE_DIR: join(work, 'state') });
    checkPrivateState(c);
    for (const dir of [c.VSC_GATEWAY_STATE_DIR, c.VSC_METADATA_DIR, c.VSC_BUFFER_DIR]) expect(mode(dir)).toBe(0o700);
  });

  it('refuses a folder open to others, naming the setting and the chmod', () => {
    const state = join(work, 'state');
    mkdirSync(join(state, 'metadata'), { recursive: true });
    chmodSync(state, 0o700);
    chmodSync(join(state, 'metadata'), 0o755);
    const c = loadGatewayConfig({ ...base, VSC_GATEWAY_STATE_DIR: state });
    expect(() => checkPrivateState(c)).toThrow(
      `the metadata folder (VSC_METADATA_DIR) ${join(state, 'metadata')} is open to other users (mode 0755); run: chmod 700 ${join(state, 'metadata')}`,
    );
    chmodSync(state, 0o750);
    expect(() => checkPrivateState(c)).toThrow(/VSC_GATEWAY_STATE_DIR.*mode 0750.*chmod 700/);
  });

  it("tightens a metadata folder PGlite itself left 0750 (an earlier version's store), and only that", () => {
    const state = join(work, 'state');
    mkdirSync(join(state, 'metadata'), { recursive: true, mode: 0o700 });
    chmodSync(state, 0o700);
    chmodSync(join(state, 'metadata'), 0o750);
    checkPrivateState(loadGatewayConfig({ ...base, VSC_GATEWAY_STATE_DIR: state }));
    expect(mode(join(state, 'metadata'))).toBe(0o700);
  });

  it('refuses a TLS private key other users can read', () => {
    const key = join(work, 'key.pem');
    writeFileSync(key, 'not really a key', { mode: 0o644 });
    chmodSync(key, 0o644);
    const c = loadGatewayConfig({
      ...base,
      VSC_GATEWAY_STATE_DIR: join(work, 'state'),
      VSC_TLS_CERT_FILE: join(work, 'cert.pem'),
      VSC_TLS_KEY_FILE: key,
    });
    expect(() => checkPrivateState(c)).toThrow(`mode 0644); run: chmod 600 ${key}`);
    chmodSync(key, 0o600);
    expect(() => checkPrivateState(c)).not.toThrow();
  });

  it('leaves folders it does not use alone (metadata in PostgreSQL, buffer in S3)', () => {
    const c = loadGatewayConfig({
      ...base,
      VSC_GATEWAY_STATE_DIR: join(work, 'unused'),
      DATABASE_URL: 'postgres://h/db',
      VSC_BUFFER_STORE: 's3',
      VSC_BUFFER_S3_BUCKET: 'vsc-bucket',
    });
    checkPrivateState(c);
    expect(() => statSync(join(work, 'unused'))).toThrow(/ENOENT/);
  });
});
