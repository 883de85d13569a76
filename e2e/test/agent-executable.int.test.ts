import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { WorkflowStartOptions } from '@temporalio/client';
import { expectedSha256, verifyReleaseSignature } from '@vansales/connector-agent';
import { extractStepWorkflow, type ExtractStepInput } from '@vansales/workflows';
import { sakilaReader, services, startPlatform, until, type Platform } from './support/harness';
import { buildAgentReleaseInto, sakilaInit } from './support/agent-release-build';

// The mini connector as its users get it (issue 13 §2): `./vsc release agent` builds the single
// executables; the Linux one runs alone in an empty folder with no node on PATH (init, doctor,
// sql check, run) against a real gateway and executes an extract; the Windows one's structure is checked.
const repoRoot = resolve(__dirname, '..', '..');
const pinnedNode = (JSON.parse(readFileSync(join(repoRoot, 'infra/node-runtime.json'), 'utf8')) as { version: string })
  .version;
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2:1';

describe('the mini connector as a single executable', () => {
  const releaseDir = mkdtempSync(join(tmpdir(), 'vsc-agent-release-'));
  const site = mkdtempSync(join(tmpdir(), 'vsc-agent-alone-'));
  const exe = join(site, 'mini-connector');
  // No node anywhere on PATH (a folder that does not exist); temporary files in a folder of its own.
  const scratch = join(site, 'tmp');
  const bareEnv = (extra: Record<string, string> = {}) => ({
    PATH: join(site, 'no-such-bin'),
    HOME: site,
    TMPDIR: scratch,
    ...extra,
  });
  let platform: Platform;
  let tenantId: string;
  let connectorId: string;
  let apiKey: string;
  let reader: { user: string; password: string };
  let agent: ChildProcess | undefined;

  beforeAll(async () => {
    buildAgentReleaseInto(releaseDir);
    copyFileSync(join(releaseDir, 'mini-connector-linux-x64'), exe);
    execFileSync('chmod', ['755', exe]);
    mkdirSync(scratch);
    reader = await sakilaReader();
    platform = await startPlatform();
    tenantId = `t-${randomBytes(4).toString('hex')}`;
    await platform.api('POST', '/v1/tenants', { id: tenantId, name: 'Single executable' });
    const created = (
      await platform.api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${tenantId}/connectors`, { name: 'sea' })
    ).body;
    connectorId = created.id;
    apiKey = created.apiKey;
  }, 900_000);

  afterAll(async () => {
    agent?.kill('SIGKILL');
    await platform?.close();
    rmSync(site, { recursive: true, force: true });
    rmSync(releaseDir, { recursive: true, force: true });
  });

  const runExe = (args: string[], options: { input?: string; env?: Record<string, string> } = {}) =>
    spawnSync(exe, args, {
      cwd: site,
      env: bareEnv(options.env),
      input: options.input,
      encoding: 'utf8',
      timeout: 60_000,
    });

  it('prints its version, commit, runtime and platform, with no node on PATH', () => {
    const out = runExe(['--version']);
    expect(out.stderr).toBe('');
    expect(out.status).toBe(0);
    const lines = out.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^mini-connector \d+\.\d+\.\d+$/);
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(/^commit: [0-9a-f]{12}(\+dirty)?$/),
      `runtime: node v${pinnedNode}`,
      'platform: linux-x64',
    ]);
  });

  it('ships SHA-256 sums signed with the release key, and a changed byte fails them', () => {
    const sums = readFileSync(join(releaseDir, 'SHA256SUMS'));
    const signature = readFileSync(join(releaseDir, 'SHA256SUMS.sig'));
    const key = readFileSync(join(releaseDir, 'release-public-key.pem'), 'utf8');
    expect(verifyReleaseSignature(sums, signature, [key])).toBe(key);
    const tampered = Buffer.from(sums);
    tampered[0] = tampered[0] === 0x30 ? 0x31 : 0x30;
    expect(verifyReleaseSignature(tampered, signature, [key])).toBeUndefined();
    // The documented check, with the tools an operator has (README "Releases").
    execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: releaseDir, stdio: 'pipe' });
    const verified = spawnSync(
      'openssl',
      [
        'pkeyutl',
        '-verify',
        '-pubin',
        '-inkey',
        'release-public-key.pem',
        '-rawin',
        '-in',
        'SHA256SUMS',
        '-sigfile',
        'SHA256SUMS.sig',
      ],
      { cwd: releaseDir, encoding: 'utf8' },
    );
    expect(verified.stdout.trim()).toBe('Signature Verified Successfully');
    const actual = execFileSync('sha256sum', [exe], { encoding: 'utf8' }).split(' ')[0];
    expect(expectedSha256(sums.toString(), 'mini-connector-linux-x64')).toBe(actual);
  });

  it('builds a Windows executable: a PE image carrying the SEA blob resource and the flipped fuse', () => {
    const image = readFileSync(join(releaseDir, 'mini-connector-win-x64.exe'));
    expect(image.subarray(0, 2).toString('latin1')).toBe('MZ');
    const pe = image.readUInt32LE(0x3c);
    expect(image.subarray(pe, pe + 4)).toEqual(Buffer.from('PE\0\0', 'latin1'));
    // Machine AMD64 and a console subsystem image, as node.exe itself.
    expect(image.readUInt16LE(pe + 4)).toBe(0x8664);
    expect(image.includes(Buffer.from('NODE_SEA_BLOB', 'utf16le'))).toBe(true);
    expect(image.includes(Buffer.from(SEA_FUSE, 'latin1'))).toBe(true);
  });

  it('installs a Windows service with the WinSW it carries (a site has no node-windows package)', () => {
    const root = join(site, 'windows-root');
    const out = runExe([
      'service',
      'install',
      '--platform',
      'windows',
      '--root',
      root,
      '--config',
      'C:\\ProgramData\\Vansales\\agent.json',
    ]);
    expect({ status: out.status, stderr: out.stderr }).toEqual({ status: 0, stderr: '' });
    // What it copied as the service wrapper is node-windows' WinSW, byte for byte.
    const winsw = join(
      require.resolve('node-windows/package.json', { paths: [join(repoRoot, 'connector-agent')] }),
      '..',
    );
    expect(readFileSync(join(root, 'C:\\ProgramData\\Vansales\\vansales-connector.exe'))).toEqual(
      readFileSync(join(winsw, 'bin', 'winsw', 'winsw.exe')),
    );
    expect(out.stdout).toContain('not run under --root: C:\\ProgramData\\Vansales\\vansales-connector.exe install');
  });

  it('checks SQL with no database (sql check), allowed and refused', () => {
    expect(runExe(['sql', 'check', '--dialect', 'postgres'], { input: 'SELECT film_id FROM film' }).status).toBe(0);
    const refused = runExe(['sql', 'check', '--dialect', 'mysql'], { input: 'DELETE FROM film' });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/DELETE/);
  });

  it('installs (init), checks its login (doctor), runs and executes an extract from the site database', async () => {
    const initCall = sakilaInit(site, platform.gatewayWsUrl, services.mariadb.port, reader, apiKey);
    const init = runExe(initCall.args, { env: initCall.env });
    expect(init.stderr).toBe('');
    expect(init.status).toBe(0);
    expect(readdirSync(site)).toEqual(expect.arrayContaining(['agent.json', 'mini-connector']));
    // Each process unpacks its scripts into a private folder and removes it when it exits.
    expect(readdirSync(scratch)).toEqual([]);

    const doctor = runExe(['doctor', '--config', join(site, 'agent.json')]);
    expect(doctor.stdout).toMatch(/^ok {4}sakila \(mysql, .*\): read-only login$/m);
    expect(doctor.status).toBe(0);

    const started = Date.now();
    agent = spawn(exe, ['run', '--config', join(site, 'agent.json')], { cwd: site, env: bareEnv(), stdio: 'pipe' });
    const output: string[] = [];
    agent.stdout!.on('data', (d: Buffer) => output.push(d.toString()));
    agent.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
    await until('the executable to connect', () => output.join('').includes('connected to the gateway'), 60_000);
    const connectedMs = Date.now() - started;

    const extracted = await platform.temporal.workflow.execute(extractStepWorkflow, {
      taskQueue: platform.workflowTaskQueue,
      workflowId: `sea-extract-${randomBytes(4).toString('hex')}`,
      args: [
        {
          tenantId,
          source: { placement: 'connector', connectorId, database: 'sakila' },
          table: { name: 'actor' },
        } satisfies ExtractStepInput,
      ],
    } as unknown as WorkflowStartOptions<typeof extractStepWorkflow>);
    expect(extracted.rowCount).toBe(200);
    expect(output.join('')).toMatch(/task done/);

    // The figures of the README (issue 13): start to connected, resident memory once idle.
    await new Promise((r) => setTimeout(r, 3000));
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${agent.pid}/status`, 'utf8'))?.[1]);
    console.log(`single executable: connected in ${connectedMs} ms, idle RSS ${Math.round(rssKb / 1024)} MB`);
    expect(rssKb).toBeGreaterThan(0);

    const exited = new Promise<number | null>((r) => agent!.once('exit', (code) => r(code)));
    agent.kill('SIGTERM');
    expect(await exited).toBe(0);
    agent = undefined;
    expect(readdirSync(scratch)).toEqual([]);
  });
});
