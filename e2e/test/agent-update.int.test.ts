import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { sakilaReader, services, startPlatform, until, type Platform } from './support/harness';
import { buildAgentReleaseInto, sakilaInit } from './support/agent-release-build';
import { registerAgentRelease, uploadAgentExecutable } from './support/agent-release-publish';

// Signed agent updates (issue 13 §5) with two real builds of the single executable (versions A and
// B, `./vsc release agent --version-override`), a real gateway and real processes: the site policy's
// off and pinned modes, an unsigned development key, a bad signature and a corrupted download
// refused, a signed version that exits at once rolled back (the running version reconnects), the
// update to B (the same process, exec'd, connects as B), and a start of a switched version that
// never connected going back to A.
const A = '0.1.1-update.a';
const B = '0.1.1-update.b';
const EXE = 'mini-connector-linux-x64';
const devKeyPath = join(
  process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'),
  'vansales-connect',
  'release',
  'dev-release-key.pem',
);

describe('signed agent updates with rollback (two real builds)', () => {
  const work = mkdtempSync(join(tmpdir(), 'vsc-agent-update-'));
  const site = join(work, 'site');
  const exe = join(site, 'mini-connector');
  const scratch = join(site, 'tmp');
  const bareEnv = () => ({ PATH: join(site, 'no-such-bin'), HOME: site, TMPDIR: scratch });
  let platform: Platform;
  let tenantId: string;
  let connectorId: string;
  let agent: ChildProcess | undefined;
  let output = '';
  const release = (v: string) => join(work, v);

  const register = (version: string, sums: string, signature: Buffer) =>
    registerAgentRelease(platform, version, { sums, signature });
  const upload = (version: string, bytes: Buffer) => uploadAgentExecutable(platform, version, bytes);
  const approve = async (version: string) => {
    const res = await platform.api('PUT', `/v1/tenants/${tenantId}/agent-version`, { version });
    expect(res.status).toBe(200);
  };
  const policy = (updates: Record<string, unknown>) =>
    writeFileSync(join(site, 'policy.json'), JSON.stringify({ updates: { connectDeadlineSeconds: 60, ...updates } }));
  /** Waits for a line of the agent's output; a timeout shows what the agent said instead. */
  const logged = (text: string, ms = 60_000) =>
    until(`the agent to log ${JSON.stringify(text)}`, () => output.includes(text), ms).catch((err: Error) => {
      throw new Error(`${err.message}\n--- the agent's output, last 6000 characters ---\n${output.slice(-6000)}`);
    });
  const count = (text: string) => output.split(text).length - 1;
  const versionOf = (path: string) =>
    spawnSync(path, ['--version'], { env: bareEnv(), encoding: 'utf8' }).stdout.split('\n')[0];
  const agentVersionAtGateway = async () =>
    (
      await platform.api<Array<{ id: string; agentVersion: string | null }>>(
        'GET',
        `/v1/tenants/${tenantId}/connectors`,
      )
    ).body.find((c) => c.id === connectorId)?.agentVersion;
  const startAgent = () => {
    agent = spawn(exe, ['run', '--config', join(site, 'agent.json')], { cwd: site, env: bareEnv(), stdio: 'pipe' });
    agent.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    agent.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    return agent;
  };

  beforeAll(async () => {
    // Two real builds of the same sources, told apart by their version (cached per source hash).
    buildAgentReleaseInto(release(A), ['--version-override', A, '--platform', 'linux-x64']);
    buildAgentReleaseInto(release(B), ['--version-override', B, '--platform', 'linux-x64']);
    mkdirSync(scratch, { recursive: true });
    copyFileSync(join(release(A), EXE), exe);
    chmodSync(exe, 0o755);
    platform = await startPlatform();
    tenantId = `t-${randomBytes(4).toString('hex')}`;
    await platform.api('POST', '/v1/tenants', { id: tenantId, name: 'Agent updates' });
    const created = (
      await platform.api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${tenantId}/connectors`, { name: 'upd' })
    ).body;
    connectorId = created.id;
    const reader = await sakilaReader();
    const initCall = sakilaInit(site, platform.gatewayWsUrl, services.mariadb.port, reader, created.apiKey);
    const init = spawnSync(exe, initCall.args, {
      cwd: site,
      env: { ...bareEnv(), ...initCall.env },
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (init.status !== 0) throw new Error(`init failed: ${init.stdout}\n${init.stderr}`);
  }, 900_000);

  afterAll(async () => {
    agent?.kill('SIGKILL');
    await platform?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('runs version A and the gateway records it; updates off and a pin to another version are honoured', async () => {
    policy({ mode: 'off', allowDevelopmentKey: true });
    startAgent();
    await logged('connected to the gateway');
    // The gateway records the hello just after its welcome.
    await until('the gateway to record A', async () => (await agentVersionAtGateway()) === A);

    const sums = readFileSync(join(release(B), 'SHA256SUMS'), 'utf8');
    await register(B, sums, readFileSync(join(release(B), 'SHA256SUMS.sig')));
    await upload(B, readFileSync(join(release(B), EXE)));
    // Approving is the tenant owner's or admin's: an operator's token is refused, another tenant's sees nothing.
    const tokenOf = async (tenant: string, role: string) =>
      (
        await platform.api<{ token: string }>('POST', `/v1/tenants/${tenant}/tokens`, {
          name: `upd-${role}`,
          role,
          kind: 'tenant',
        })
      ).body.token;
    const url = `/v1/tenants/${tenantId}/agent-version`;
    expect((await platform.api('PUT', url, { version: B }, await tokenOf(tenantId, 'operator'))).status).toBe(403);
    const other = `t-${randomBytes(4).toString('hex')}`;
    await platform.api('POST', '/v1/tenants', { id: other, name: 'Other' });
    const foreign = await tokenOf(other, 'owner');
    expect([403, 404]).toContain((await platform.api('PUT', url, { version: B }, foreign)).status);
    expect([403, 404]).toContain((await platform.api('GET', url, undefined, foreign)).status);
    expect((await platform.api('PUT', `/v1/agent-releases/${B}`, {}, foreign)).status).toBe(403);
    const byAdmin = await platform.api<{ approved: { version: string } }>(
      'PUT',
      url,
      { version: B },
      await tokenOf(tenantId, 'admin'),
    );
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body.approved.version).toBe(B);
    await logged(`not updating to ${B}: updates are off in the site policy`);

    policy({ mode: 'pinned', version: '0.1.0', allowDevelopmentKey: true });
    await approve(B);
    await logged(`not updating to ${B}: the site policy pins version 0.1.0`);
    expect(versionOf(exe)).toBe(`mini-connector ${A}`);
  }, 120_000);

  it('refuses a development-key release unless the site allows it, a bad signature and a corrupted download', async () => {
    const sums = readFileSync(join(release(B), 'SHA256SUMS'), 'utf8');
    const executable = readFileSync(join(release(B), EXE));
    // The same signed build under other names: what the agent refuses must be the signature or the bytes.
    policy({ mode: 'approved' });
    await register('0.1.1-update.nodev', sums, readFileSync(join(release(B), 'SHA256SUMS.sig')));
    await upload('0.1.1-update.nodev', executable);
    await approve('0.1.1-update.nodev');
    await logged('refused the update to 0.1.1-update.nodev: this build pins no release key');

    policy({ mode: 'approved', allowDevelopmentKey: true });
    const stranger = generateKeyPairSync('ed25519').privateKey;
    await register('0.1.1-update.badsig', sums, sign(null, Buffer.from(sums), stranger));
    await upload('0.1.1-update.badsig', executable);
    await approve('0.1.1-update.badsig');
    await logged(
      'refused the update to 0.1.1-update.badsig: the signature of release 0.1.1-update.badsig does not verify',
    );

    await register('0.1.1-update.corrupt', sums, readFileSync(join(release(B), 'SHA256SUMS.sig')));
    await upload('0.1.1-update.corrupt', executable);
    // One byte changed in the store (a disk, a store or a gateway that alters what it serves).
    const chunk = join(platform.bufferDir, 'agent-releases', '0.1.1-update.corrupt', 'linux-x64', '00003');
    const bytes = readFileSync(chunk);
    bytes[1000] = bytes[1000]! ^ 0xff;
    writeFileSync(chunk, bytes);
    await approve('0.1.1-update.corrupt');
    await logged('refused the update to 0.1.1-update.corrupt: the downloaded executable');
    expect(output).toMatch(/corrupted or tampered with on the way/);

    expect(versionOf(exe)).toBe(`mini-connector ${A}`);
    expect(existsSync(`${exe}.download`) || existsSync(`${exe}.next`)).toBe(false);
    const state = JSON.parse(readFileSync(join(site, 'update-state.json'), 'utf8')) as {
      failed: { version: string }[];
    };
    expect(state.failed.map((f) => f.version)).toEqual([
      '0.1.1-update.nodev',
      '0.1.1-update.badsig',
      '0.1.1-update.corrupt',
    ]);
  }, 120_000);

  it('rolls back a signed version that exits at once: A reconnects and stays', async () => {
    // Signed with the release key like any build, but it dies at start.
    const broken = Buffer.from('#!/bin/sh\nexit 3\n');
    const sums = `${createHash('sha256').update(broken).digest('hex')}  ${EXE}\n`;
    await register('0.1.1-update.broken', sums, sign(null, Buffer.from(sums), readFileSync(devKeyPath, 'utf8')));
    await upload('0.1.1-update.broken', broken);
    const connections = count('connected to the gateway');
    const approved = Date.now();
    await approve('0.1.1-update.broken');
    await logged('update to 0.1.1-update.broken rolled back, staying on');
    expect(output).toMatch(/did not connect to the gateway within 60 s \(exited with code 3\)/);
    await until('A to reconnect', () => count('connected to the gateway') > connections, 60_000);
    console.log(
      `agent update: a version that exits at once rolled back, A reconnected ${Date.now() - approved} ms after the approval`,
    );
    expect(versionOf(exe)).toBe(`mini-connector ${A}`);
    expect(await agentVersionAtGateway()).toBe(A);
  }, 120_000);

  it('stops a signed version that runs but never connects at the deadline and rolls back: A reconnects', async () => {
    // Alive, but never a mini connector: only the site's deadline (its shortest, 5 s) ends its trial.
    policy({ mode: 'approved', allowDevelopmentKey: true, connectDeadlineSeconds: 5 });
    const silent = Buffer.from('#!/bin/sh\nexec /bin/sleep 600\n');
    const sums = `${createHash('sha256').update(silent).digest('hex')}  ${EXE}\n`;
    await register('0.1.1-update.silent', sums, sign(null, Buffer.from(sums), readFileSync(devKeyPath, 'utf8')));
    await upload('0.1.1-update.silent', silent);
    const connections = count('connected to the gateway');
    await approve('0.1.1-update.silent');
    await logged('update to 0.1.1-update.silent rolled back, staying on');
    expect(output).toMatch(
      /version 0\.1\.1-update\.silent did not connect to the gateway within 5 s \(stopped by SIGKILL\)/,
    );
    await until('A to reconnect', () => count('connected to the gateway') > connections, 60_000);
    expect(versionOf(exe)).toBe(`mini-connector ${A}`);
    expect(await agentVersionAtGateway()).toBe(A);
    // No sleeping trial left behind.
    expect(spawnSync('pgrep', ['-f', '/bin/sleep 600'], { encoding: 'utf8' }).stdout).toBe('');
    policy({ mode: 'approved', allowDevelopmentKey: true });
  }, 120_000);

  it('updates to B: the same process execs B, which connects and reports its version; A is kept beside it', async () => {
    const pid = agent!.pid;
    const approved = Date.now();
    await approve(B);
    await logged(`update to ${B} confirmed: connected to the gateway`, 120_000);
    console.log(
      `agent update: ${A} to ${B} (163 MB download, verify, trial, swap, exec) confirmed ${Date.now() - approved} ms after the approval`,
    );
    expect(versionOf(exe)).toBe(`mini-connector ${B}`);
    expect(versionOf(`${exe}.previous`)).toBe(`mini-connector ${A}`);
    expect(agent!.pid).toBe(pid);
    expect(agent!.exitCode).toBeNull();
    await until('the gateway to record B', async () => (await agentVersionAtGateway()) === B);
    const state = JSON.parse(readFileSync(join(site, 'update-state.json'), 'utf8')) as {
      switched?: unknown;
      last: { version: string; outcome: string };
    };
    expect(state.switched).toBeUndefined();
    expect(state.last).toMatchObject({ version: B, outcome: 'updated' });
    // exec skips exit handlers: the executable's unpacked scripts of A were removed before it.
    expect(readdirSync(scratch)).toHaveLength(1);
  }, 180_000);

  it('a switched version that starts again without having connected goes back to the previous at once', async () => {
    const exited = new Promise((r) => agent!.once('exit', r));
    agent!.kill('SIGTERM');
    await exited;
    // As if B had been switched to and had died before its first welcome (a power cut, a crash).
    const statePath = join(site, 'update-state.json');
    const state = JSON.parse(readFileSync(statePath, 'utf8')) as Record<string, unknown>;
    writeFileSync(
      statePath,
      JSON.stringify({ ...state, switched: { from: A, to: B, at: new Date().toISOString(), starts: 1 } }),
    );
    output = '';
    startAgent();
    await logged(`version ${B} started before without connecting to the gateway: rolled back to ${A}`);
    await logged('connected to the gateway');
    expect(versionOf(exe)).toBe(`mini-connector ${A}`);
    await until('the gateway to record A', async () => (await agentVersionAtGateway()) === A);
  }, 120_000);
});
