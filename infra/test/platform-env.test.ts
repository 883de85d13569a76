import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  loadOrCreateSecrets,
  platformProcesses,
  portsFor,
  registryPublicKey,
  type ServiceContext,
} from '@vansales/infra';
import { YOUNG_GENERATION_FLAGS } from '@vansales/protocol';

/** What `./vsc up` hands the gateway and the cloud worker: one metadata store on PostgreSQL, two logins. */
describe('the platform processes of ./vsc up', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vsc-platform-env-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const ctx: ServiceContext = {
    profile: 'dev',
    stateDir: dir,
    // The dev profile's own port block (no offset): the URLs below name its PostgreSQL port.
    ports: portsFor('dev', {}),
    secrets: loadOrCreateSecrets(dir),
    log: () => undefined,
  };
  const { gateway, cloudWorker } = platformProcesses();
  const gw = gateway.launch(ctx);
  const cw = cloudWorker.launch(ctx);

  it('gives both the same PostgreSQL database, each through its own login; no embedded store', () => {
    const gwUrl = new URL(gw.env!.DATABASE_URL!);
    const cwUrl = new URL(cw.env!.DATABASE_URL!);
    expect([gwUrl.host, gwUrl.pathname]).toEqual(['127.0.0.1:15432', '/vsc_metadata']);
    expect([cwUrl.host, cwUrl.pathname]).toEqual(['127.0.0.1:15432', '/vsc_metadata']);
    expect([gwUrl.username, decodeURIComponent(gwUrl.password)]).toEqual([
      'vsc_gateway',
      ctx.secrets.metadataGatewayPassword,
    ]);
    expect([cwUrl.username, decodeURIComponent(cwUrl.password)]).toEqual([
      'vsc_cloud_worker',
      ctx.secrets.metadataWorkerPassword,
    ]);
    expect(gw.env!.VSC_METADATA_DIR).toBeUndefined();
  });

  it('starts our processes with two malloc arenas (their native memory while rows move), unless the operator set it', () => {
    const expected = process.env.MALLOC_ARENA_MAX ?? '2';
    expect([gw.env!.MALLOC_ARENA_MAX, cw.env!.MALLOC_ARENA_MAX]).toEqual([expected, expected]);
  });

  it('starts them with large blocks always mapped, so the chunk buffers V8 frees leave the process', () => {
    const expected = process.env.MALLOC_MMAP_THRESHOLD_ ?? '131072';
    expect([gw.env!.MALLOC_MMAP_THRESHOLD_, cw.env!.MALLOC_MMAP_THRESHOLD_]).toEqual([expected, expected]);
    // A 16 MB buffer freed first (glibc then raises its threshold to 16 MB), then sixty 1 MB buffers
    // freed below a kept one: the MB the process's RSS fell by, with and without the launcher's setting.
    // V8 may free a buffer's memory after gc() returns, so each step waits (gc again, a turn of the
    // event loop) until the free it needs has happened. The kept buffer on top stops glibc trimming the
    // heap's top, which otherwise gives the sixty back, or not, depending on where earlier frees left holes.
    const released = (env: Record<string, string>) =>
      Number(
        execFileSync(
          process.execPath,
          [
            '--expose-gc',
            '-e',
            '(async()=>{const rss=()=>process.memoryUsage().rss,turn=()=>new Promise(r=>setTimeout(r,5));' +
              'let b=Buffer.alloc(16<<20,1);const full=rss();b=null;' +
              'for(let i=0;i<200&&rss()>full-(12<<20);i++){gc();await turn()}' +
              'const keep=[];for(let i=0;i<60;i++)keep.push(Buffer.alloc(1<<20,1));' +
              'const top=Buffer.alloc(1<<20,1);const before=rss();keep.length=0;' +
              'for(let i=0;i<100&&before-rss()<(40<<20);i++){gc();await turn()}' +
              'process.stdout.write(String((before-rss())/1048576+top.length*0))})()',
          ],
          { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env } },
        ),
      );
    expect(
      released({ MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: gw.env!.MALLOC_MMAP_THRESHOLD_! }),
    ).toBeGreaterThan(40);
    expect(released({ MALLOC_ARENA_MAX: '2' })).toBeLessThan(20);
  });

  it('starts them with a small young generation (what their RSS peaks at while rows move), which node honours', () => {
    const flags = gw.args!.slice(0, gw.args!.indexOf('--enable-source-maps'));
    expect(flags).toEqual([...YOUNG_GENERATION_FLAGS]);
    expect(cw.args!.slice(0, flags.length)).toEqual(flags);
    // The young generation's size after churning through short-lived objects, with and without them.
    const churn =
      "let k=[];for(let i=0;i<2e6;i++){k.push({i,s:'x'+i});if(k.length>1e5)k=[]}" +
      "process.stdout.write(String(require('v8').getHeapSpaceStatistics().find(s=>s.space_name==='new_space').space_size))";
    const newSpaceMb = (args: string[]) =>
      Number(execFileSync(process.execPath, [...args, '-e', churn], { encoding: 'utf8' })) / 2 ** 20;
    expect(newSpaceMb(flags)).toBeLessThanOrEqual(16);
    expect(newSpaceMb([])).toBeGreaterThan(16);
  });

  it("gives the worker the registry key's public half (the gateway's file holds the private one) and the credential keys", () => {
    expect(gw.env!.VSC_REGISTRY_SIGNING_KEY_FILE).toBe(join(dir, 'registry-signing-key.pem'));
    // Base64 SPKI DER, comma-separated: the format of VSC_REGISTRY_TRUSTED_KEYS.
    const trusted = cw
      .env!.VSC_REGISTRY_TRUSTED_KEYS!.split(',')
      .map((k) => createPublicKey({ key: Buffer.from(k, 'base64'), format: 'der', type: 'spki' }));
    const fromSecret = createPublicKey(
      createPrivateKey(Buffer.from(ctx.secrets.registrySigningKey, 'base64').toString('utf8')),
    );
    expect(trusted.map((k) => k.equals(fromSecret))).toEqual([true]);
    expect(cw.env!.VSC_REGISTRY_TRUSTED_KEYS).toBe(registryPublicKey(ctx));
    expect(cw.env!.VSC_CREDENTIALS_KEYS).toBe(gw.env!.VSC_CREDENTIALS_KEYS);
    expect(cw.env!.VSC_CREDENTIALS_KEYS).toBe(ctx.secrets.credentialsKeys);
    // The worker holds no signing key: it can verify artifacts, never make one.
    expect(Object.keys(cw.env!)).not.toContain('VSC_REGISTRY_SIGNING_KEY_FILE');
  });

  it('puts no secret on a command line', () => {
    const argv = [...gw.args, ...cw.args].join(' ');
    for (const value of Object.values(ctx.secrets)) expect(argv.includes(value)).toBe(false);
  });

  it('adds the new secrets to a secrets file of an earlier version, keeping the ones it had', () => {
    const old = mkdtempSync(join(tmpdir(), 'vsc-old-secrets-'));
    try {
      const { metadataGatewayPassword, metadataWorkerPassword, registrySigningKey, ...earlier } =
        loadOrCreateSecrets(old);
      expect([metadataGatewayPassword, metadataWorkerPassword, registrySigningKey].every(Boolean)).toBe(true);
      writeFileSync(join(old, 'secrets.json'), JSON.stringify(earlier), { mode: 0o600 });
      const upgraded = loadOrCreateSecrets(old);
      expect(upgraded).toMatchObject(earlier);
      expect(upgraded.metadataWorkerPassword).not.toBe(upgraded.metadataGatewayPassword);
      expect(JSON.parse(readFileSync(join(old, 'secrets.json'), 'utf8'))).toEqual(upgraded);
    } finally {
      rmSync(old, { recursive: true, force: true });
    }
  });
});
