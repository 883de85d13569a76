import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  describeTemporalConnection,
  TemporalConnectionEnv,
  temporalConnectionOptions,
  withTemporalProfile,
} from '@vansales/temporal-config';

const options = (env: Record<string, string>) => temporalConnectionOptions(TemporalConnectionEnv.parse(env));

describe('Temporal connection settings (the SDK environment-configuration names)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'vsc-temporal-settings-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('connects in plaintext to the local dev server by default', () => {
    expect(options({})).toEqual({ address: '127.0.0.1:7233', tls: false, apiKey: undefined });
  });

  it('turns TLS on with an API key, as Temporal Cloud expects, unless told otherwise on loopback', () => {
    const cloud = options({ TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_API_KEY: 'the-key' });
    expect(cloud.apiKey).toBe('the-key');
    expect(cloud.tls).toEqual(expect.objectContaining({ clientCertPair: undefined }));
    expect(options({ TEMPORAL_API_KEY: 'k', TEMPORAL_TLS: 'false' }).tls).toBe(false);
  });

  it('reads certificates from files or data, and names a file it cannot read', () => {
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, 'CA PEM');
    const tls = options({
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: ca,
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
      TEMPORAL_TLS_CLIENT_CERT_DATA: 'CERT PEM',
      TEMPORAL_TLS_CLIENT_KEY_DATA: 'KEY PEM',
    }).tls;
    expect(tls).toEqual({
      serverRootCACertificate: Buffer.from('CA PEM'),
      serverNameOverride: 'temporal.internal',
      clientCertPair: { crt: Buffer.from('CERT PEM'), key: Buffer.from('KEY PEM') },
    });
    expect(() => options({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: join(dir, 'missing.pem') })).toThrow(
      /TEMPORAL_TLS_SERVER_CA_CERT_PATH: cannot read .*missing\.pem \(ENOENT\)/,
    );
  });

  it('fills unset settings from a temporal.toml profile; the environment wins', () => {
    const file = join(dir, 'temporal.toml');
    writeFileSync(
      file,
      [
        '[profile.prod]',
        'address = "prod.example.com:7233"',
        'namespace = "vansales-prod"',
        'api_key = "profile-key"',
        '[profile.prod.tls]',
        'server_name = "prod.internal"',
      ].join('\n'),
    );
    const env = withTemporalProfile({
      TEMPORAL_CONFIG_FILE: file,
      TEMPORAL_PROFILE: 'prod',
      TEMPORAL_NAMESPACE: 'mine',
    });
    expect(env).toMatchObject({
      TEMPORAL_ADDRESS: 'prod.example.com:7233',
      TEMPORAL_NAMESPACE: 'mine',
      TEMPORAL_API_KEY: 'profile-key',
      TEMPORAL_TLS: 'true',
      TEMPORAL_TLS_SERVER_NAME: 'prod.internal',
    });
    expect(() => withTemporalProfile({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'nope' })).toThrow(
      /TEMPORAL_CONFIG_FILE\/TEMPORAL_PROFILE: cannot load profile "nope"/,
    );
    // Without either setting, no file is read at all (not even the user's default one).
    const plain = { TEMPORAL_ADDRESS: 'x:1' };
    expect(withTemporalProfile(plain)).toBe(plain);
  });

  it('describes the connection for logs without the key', () => {
    const line = describeTemporalConnection(
      TemporalConnectionEnv.parse({ TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233', TEMPORAL_API_KEY: 'sekrit-key' }),
    );
    expect(line).toBe('ns.acct.tmprl.cloud:7233 namespace vansales (TLS, API key)');
    expect(line).not.toContain('sekrit');
  });
});
