import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../src/main';
import { SYSTEMD_UNIT_PATH } from '../src/service/service-plan';
import { aclProblem, icaclsCommands, parseIcacls, WINDOWS_SERVICE_ACCOUNT } from '../src/service/windows-service';
import { keyFileProblem } from '../src/vault/key-file-access';
import { machineId, windowsMachineGuid } from '../src/machine-id';
import { RotatingLogFile, AGENT_LOG_FILE } from '../src/log-file';
import { cliIo } from './cli-io';
import { generateApiKey } from '@vansales/protocol';
import { parseAgentConfig } from '../src/config';
import { createAgent } from '../src/create-agent';

const temp = (name: string) => mkdtempSync(join(tmpdir(), `vsc-service-${name}-`));

describe('mini-connector service (Linux)', () => {
  it('writes a hardened unit from the template that systemd-analyze verify accepts, running no command under --root', async () => {
    const root = temp('root');
    const h = cliIo();
    // A real executable outside any home folder (this test's node may live under /root/.cache).
    const code = await runCli(
      ['service', 'install', '--root', root, '--config', '/etc/vansales/agent.json', '--program', '/bin/true'],
      h.io,
    );
    expect(h.err()).toBe('');
    expect(code).toBe(0);
    const unitPath = join(root, SYSTEMD_UNIT_PATH);
    const unit = readFileSync(unitPath, 'utf8');
    for (const line of [
      'User=vansales-connector',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'ReadWritePaths=/etc/vansales /etc/vansales/logs',
      'PrivateTmp=yes',
      'ProtectHome=yes',
      'CapabilityBoundingSet=',
      'StandardOutput=journal',
      'RestartPreventExitStatus=2 3',
    ])
      expect(unit.split('\n')).toContain(line);
    expect(unit.split('\n')).toContain('ExecStart="/bin/true" "run" "--config" "/etc/vansales/agent.json"');
    // Nothing on this machine was changed: the user, the folders and systemctl are listed, not run.
    expect(h.out()).toContain('not run under --root: useradd --system --user-group');
    expect(h.out()).toContain('not run under --root: systemctl enable --now vansales-connector');

    // systemd's own check: exit 0 and no warning (an unknown or unparsable setting is only a warning).
    const verify = spawnSync('systemd-analyze', ['verify', unitPath], { encoding: 'utf8' });
    if (verify.error)
      throw new Error(`systemd-analyze is needed (Debian: apt-get install systemd): ${verify.error.message}`);
    expect(verify.stderr).toBe('');
    expect(verify.status).toBe(0);
  });

  it('systemd-analyze verify catches a broken unit (the check above can fail)', () => {
    const dir = temp('bad');
    const path = join(dir, 'bad.service');
    writeFileSync(path, `[Service]\nExecStart=${process.execPath} --version\nProtectSystem=bogus\n`);
    const verify = spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8' });
    expect(verify.stderr).toMatch(/protect system value/);
  });

  it('--dry-run prints every file and command and changes nothing', async () => {
    const h = cliIo();
    const dir = temp('dry');
    const config = join(dir, 'agent.json');
    expect(await runCli(['service', 'install', '--dry-run', '--config', config, '--user', 'vsc-site'], h.io)).toBe(0);
    expect(h.out()).toContain(`would run: useradd --system --user-group --home-dir ${dir} --no-create-home`);
    expect(h.out()).toContain(`would run: chmod 0600 ${dir}/vault.key (when ${dir}/vault.key exists)`);
    expect(h.out()).toContain(`would write ${SYSTEMD_UNIT_PATH} (mode 0644):`);
    expect(h.out()).toContain('    User=vsc-site');
    expect(readdirSync(dir)).toEqual([]);
    const removal = cliIo();
    expect(await runCli(['service', 'uninstall', '--dry-run', '--config', config], removal.io)).toBe(0);
    expect(removal.out()).toBe(
      `would run: systemctl disable --now vansales-connector\nwould remove ${SYSTEMD_UNIT_PATH}\nwould run: systemctl daemon-reload\n`,
    );
  });

  it('warns when the program or the config is under a home folder the unit cannot see (ProtectHome)', async () => {
    const h = cliIo();
    const code = await runCli(
      [
        'service',
        'install',
        '--dry-run',
        '--config',
        '/home/it/agent.json',
        '--program',
        '/opt/vansales/mini-connector',
      ],
      h.io,
    );
    expect(code).toBe(0);
    expect(h.err()).toBe(
      'warning: /home/it/agent.json is under a home folder, which the hardened unit cannot see (ProtectHome); install the agent elsewhere (e.g. /opt/vansales)\n',
    );
    expect(h.out()).toContain('    ExecStart="/opt/vansales/mini-connector" "run" "--config" "/home/it/agent.json"');
  });

  it('refuses an odd user name, an unknown action or platform, saying why', async () => {
    for (const [args, message] of [
      [['install', '--dry-run', '--config', '/x/agent.json', '--user', 'a;rm -rf'], /not a plain account name/],
      [['frobnicate', '--config', '/x/agent.json'], /unknown action frobnicate/],
      [['install', '--dry-run', '--config', '/x/agent.json', '--platform', 'mac'], /linux or windows/],
    ] as const) {
      const h = cliIo();
      expect(await runCli(['service', ...args], h.io)).toBe(2);
      expect(h.err()).toMatch(message);
    }
  });
});

describe('mini-connector service (Windows, generated here)', () => {
  it('generates the WinSW XML and the icacls commands that leave the key to the service account', async () => {
    const h = cliIo();
    const code = await runCli(
      ['service', 'install', '--dry-run', '--platform', 'windows', '--config', 'C:\\ProgramData\\Vansales\\agent.json'],
      h.io,
    );
    expect(h.err()).toBe('');
    expect(code).toBe(0);
    const out = h.out();
    expect(out).toMatch(
      /would copy .*node-windows\/bin\/winsw\/winsw\.exe to C:\\ProgramData\\Vansales\\vansales-connector\.exe/,
    );
    expect(out).toContain('would write C:\\ProgramData\\Vansales\\vansales-connector.xml');
    expect(out).toContain('<domain>NT SERVICE</domain>');
    expect(out).toContain('<user>vansales-connector</user>');
    expect(out).toContain('<log mode="roll-by-size">');
    expect(out).toContain('<env name="VSC_SERVICE_ACCOUNT" value="NT SERVICE\\vansales-connector"/>');
    expect(out).toMatch(/<arguments>.*run --config C:\\ProgramData\\Vansales\\agent\.json<\/arguments>/);
    expect(out).toContain('would run: C:\\ProgramData\\Vansales\\vansales-connector.exe install');
    // The WinSW node-windows ships is really there to copy.
    expect(existsSync(join(require.resolve('node-windows/package.json'), '..', 'bin', 'winsw', 'winsw.exe'))).toBe(
      true,
    );
  });

  it('icacls: inheritance removed, only the service account, SYSTEM and Administrators granted', () => {
    const [dir, key] = icaclsCommands('C:\\S\\vault.key', 'C:\\S', WINDOWS_SERVICE_ACCOUNT);
    expect(key).toEqual([
      'icacls',
      'C:\\S\\vault.key',
      '/inheritance:r',
      '/grant:r',
      'NT SERVICE\\vansales-connector:(R)',
      '/grant:r',
      'NT AUTHORITY\\SYSTEM:(F)',
      '/grant:r',
      'BUILTIN\\Administrators:(F)',
    ]);
    expect(dir).toContain('NT SERVICE\\vansales-connector:(OI)(CI)M');
    expect(dir?.slice(0, 3)).toEqual(['icacls', 'C:\\S', '/inheritance:r']);
  });

  const icaclsAnswer = (...entries: string[]) =>
    `C:\\S\\vault.key ${entries[0]}\n${entries
      .slice(1)
      .map((e) => `                ${e}\n`)
      .join('')}\nSuccessfully processed 1 files; Failed processing 0 files\n`;

  it('at start on Windows, the agent refuses a key others can read (ACL read through a fake reader)', () => {
    const check = (answer: string) =>
      keyFileProblem('C:\\S\\vault.key', {
        platform: 'win32',
        serviceAccount: WINDOWS_SERVICE_ACCOUNT,
        readAcl: () => answer,
      });
    expect(
      check(
        icaclsAnswer('NT SERVICE\\vansales-connector:(R)', 'NT AUTHORITY\\SYSTEM:(F)', 'BUILTIN\\Administrators:(F)'),
      ),
    ).toBeUndefined();
    expect(check(icaclsAnswer('NT SERVICE\\vansales-connector:(R)', 'Everyone:(R)'))).toMatch(
      /can be read by Everyone \(R\); run: mini-connector service install/,
    );
    expect(check(icaclsAnswer('NT SERVICE\\vansales-connector:(R)', 'BUILTIN\\Users:(I)(RX)'))).toMatch(
      /BUILTIN\\Users \(I\)\(RX\)/,
    );
    expect(check('')).toMatch(/ACL could not be read/);
    expect(parseIcacls(icaclsAnswer('A:(F)', 'B:(R)'), 'C:\\S\\vault.key')).toEqual([
      { principal: 'A', rights: '(F)' },
      { principal: 'B', rights: '(R)' },
    ]);
    expect(
      aclProblem([{ principal: 'nt service\\VANSALES-CONNECTOR', rights: '(R)' }], WINDOWS_SERVICE_ACCOUNT),
    ).toBeUndefined();
  });

  it("takes Windows' machine identity from MachineGuid, not the host name", () => {
    const guid = '6f1c2b3a-1111-4a2b-9c3d-0123456789ab';
    const reg = (args: string[]) => {
      expect(args).toEqual(['query', 'HKLM\\SOFTWARE\\Microsoft\\Cryptography', '/v', 'MachineGuid', '/reg:64']);
      return `\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography\r\n    MachineGuid    REG_SZ    ${guid.toUpperCase()}\r\n\r\n`;
    };
    expect(windowsMachineGuid(reg)).toBe(guid);
    expect(machineId(undefined, 'win32', reg)).toBe(machineId(guid));
    expect(machineId(undefined, 'win32', reg)).not.toBe(machineId(undefined, 'win32', () => 'no value'));
  });
});

describe('the vault key at start (Linux)', () => {
  it('refuses a key readable by others, or owned by another user than the agent runs as', () => {
    const dir = temp('key');
    const key = join(dir, 'vault.key');
    writeFileSync(key, Buffer.alloc(32), { mode: 0o600 });
    expect(keyFileProblem(key)).toBeUndefined();
    chmodSync(key, 0o640);
    expect(keyFileProblem(key)).toMatch(/can be read by other users \(mode 0640\); run: chmod 600/);
    chmodSync(key, 0o600);
    const other = userInfo().uid + 4242;
    expect(keyFileProblem(key, { uid: other })).toMatch(
      new RegExp(`belongs to uid ${userInfo().uid}, not to the user this agent runs as \\(uid ${other}\\)`),
    );
  });
});

describe('the rotating JSON-lines log file', () => {
  it('rotates by size and keeps N files, private to the agent', () => {
    const dir = temp('log');
    const log = new RotatingLogFile(dir, 1000, 2);
    const line = (i: number) => `${JSON.stringify({ msg: `line ${i}`, pad: 'x'.repeat(80) })}\n`;
    for (let i = 0; i < 60; i++) log.write(line(i));
    log.close();
    log.write(line(99)); // after close: dropped, no throw
    expect(readdirSync(dir).sort()).toEqual([AGENT_LOG_FILE, `${AGENT_LOG_FILE}.1`, `${AGENT_LOG_FILE}.2`]);
    const current = readFileSync(join(dir, AGENT_LOG_FILE), 'utf8').trim().split('\n');
    expect(JSON.parse(current.at(-1)!).msg).toBe('line 59');
    for (const f of readdirSync(dir)) expect(readFileSync(join(dir, f)).length).toBeLessThanOrEqual(1000);
    const previous = readFileSync(join(dir, `${AGENT_LOG_FILE}.1`), 'utf8')
      .trim()
      .split('\n');
    expect(JSON.parse(previous.at(-1)!).msg).toBe(`line ${59 - current.length}`);
    expect(execFileSync('stat', ['-c', '%a', join(dir, AGENT_LOG_FILE)], { encoding: 'utf8' }).trim()).toBe('600');
  });

  it("receives the agent's own log lines (logDir, as run takes it from VSC_AGENT_LOG_DIR), API key redacted", async () => {
    const dir = temp('agent-log');
    const apiKey = generateApiKey('acme');
    const config = parseAgentConfig({ gatewayUrl: 'ws://127.0.0.1:9/v1/agent/connect', apiKey, logLevel: 'info' });
    const { agent, close } = createAgent(config, undefined, { logDir: dir });
    agent.start(); // no key pair: the agent says so and stops
    expect((await agent.done).code).toBe('key-rejected');
    await close();
    const lines = readFileSync(join(dir, AGENT_LOG_FILE), 'utf8').trim().split('\n');
    const record = JSON.parse(lines.at(-1)!) as { name: string; msg: string };
    expect(record.name).toBe('mini-connector');
    expect(record.msg).toMatch(/no key pair/);
    expect(readFileSync(join(dir, AGENT_LOG_FILE), 'utf8')).not.toContain(apiKey);
  });
});
