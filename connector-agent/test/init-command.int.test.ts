import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { generateApiKey } from '@vansales/protocol';
import { parseAgentConfig } from '@vansales/connector-agent';
import { makeTestPki } from '@vansales/test-kit';
import { runCli } from '../src/main';
import { openVault, resolveSecrets } from '../src/vault';

const URL = 'wss://gateway.example.com/v1/agent/connect';
const PASSWORD = 'erp-Pw!3391-unique';
const PASSWORD_2 = 'wh-Pw!7713-unique';

function harness(options: { stdin?: string; env?: NodeJS.ProcessEnv; tty?: boolean } = {}) {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  if (options.tty) Object.assign(stdin, { isTTY: true });
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  if (options.stdin !== undefined) stdin.end(options.stdin);
  return { io: { stdin, stdout, stderr, env: options.env ?? {} }, out: () => out, err: () => err };
}

const freshDir = () => join(mkdtempSync(join(tmpdir(), 'vsc-init-')), 'agent');

/** Every file init wrote, as text, so a test can look for a secret in any of them. */
function filesIn(dir: string): Record<string, Buffer> {
  return Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f))]));
}

function loadResolved(dir: string) {
  const raw = JSON.parse(readFileSync(join(dir, 'agent.json'), 'utf8'));
  return parseAgentConfig(resolveSecrets(raw, openVault({ dir })), 'agent.json');
}

describe('mini-connector init --non-interactive', () => {
  it('writes agent.json (0600) with vault references only, and the vault beside it', async () => {
    const dir = freshDir();
    const key = generateApiKey('acme');
    const h = harness({ env: { VSC_KEY: key, ERP_PW: PASSWORD, WH_PW: PASSWORD_2 } });
    const code = await runCli(
      [
        'init',
        '--non-interactive',
        '--dir',
        dir,
        '--gateway-url',
        URL,
        '--api-key-env',
        'VSC_KEY',
        '--database',
        'name=erp,dialect=mysql,host=10.0.0.5,port=3306,user=reader,database=erp,password-env=ERP_PW',
        '--database',
        'name=wh,dialect=postgres,user=ro,database=warehouse,password-env=WH_PW,statement-timeout-ms=5000',
      ],
      h.io,
    );
    expect(h.err()).toBe('');
    expect(code).toBe(0);
    expect(h.out()).toContain(`wrote ${join(dir, 'agent.json')}`);

    expect(statSync(join(dir, 'agent.json')).mode & 0o777).toBe(0o600);
    const written = JSON.parse(readFileSync(join(dir, 'agent.json'), 'utf8'));
    expect(written).toEqual({
      gatewayUrl: URL,
      apiKey: { vault: 'apiKey' },
      databases: {
        erp: {
          dialect: 'mysql',
          host: '10.0.0.5',
          port: 3306,
          user: 'reader',
          password: { vault: 'database.erp.password' },
          database: 'erp',
        },
        wh: {
          dialect: 'postgres',
          host: '127.0.0.1',
          port: 5432,
          user: 'ro',
          password: { vault: 'database.wh.password' },
          database: 'warehouse',
          statementTimeoutMs: 5000,
        },
      },
    });
    for (const [name, content] of Object.entries(filesIn(dir))) {
      for (const secret of [PASSWORD, PASSWORD_2, key]) {
        expect({ name, found: content.includes(Buffer.from(secret)) }).toEqual({ name, found: false });
      }
    }
    expect(h.out() + h.err()).not.toContain(PASSWORD);
    expect(h.out()).not.toContain(key);

    const config = loadResolved(dir);
    expect(config.apiKey).toBe(key);
    expect(config.databases.erp?.password).toBe(PASSWORD);
    expect(config.databases.wh?.password).toBe(PASSWORD_2);
    expect(config.databases.wh?.statementTimeoutMs).toBe(5000);
  });

  it('writes the proxy (its password in the vault) and the CA file, and enrols through that proxy', async () => {
    const dir = freshDir();
    const key = generateApiKey('acme');
    const proxyPassword = 'proxy-Pw!5521-unique';
    const pki = makeTestPki(mkdtempSync(join(tmpdir(), 'vsc-init-pki-')), 'DNS:gateway.example.com');
    const h = harness({ env: { VSC_KEY: key, ERP_PW: PASSWORD, PROXY_PW: proxyPassword } });
    const args = [
      'init',
      '--non-interactive',
      '--dir',
      dir,
      '--gateway-url',
      URL,
      '--api-key-env',
      'VSC_KEY',
      '--database',
      'name=erp,dialect=mysql,user=reader,database=erp,password-env=ERP_PW',
      // Port 9 on this machine: nothing listens, so the enrolment's CONNECT fails at once.
      '--proxy-url',
      'http://127.0.0.1:9',
      '--proxy-user',
      'svc-vansales',
      '--proxy-password-env',
      'PROXY_PW',
      '--no-proxy',
      '10.0.0.0/8,.corp.example',
      '--tls-ca-file',
      pki.ca,
    ];
    const code = await runCli(args, h.io);
    expect(h.err()).toBe('');
    expect(code).toBe(0);
    const written = JSON.parse(readFileSync(join(dir, 'agent.json'), 'utf8'));
    expect(written).toMatchObject({
      tlsCaFile: pki.ca,
      proxy: {
        url: 'http://127.0.0.1:9',
        username: 'svc-vansales',
        password: { vault: 'proxyPassword' },
        noProxy: '10.0.0.0/8,.corp.example',
      },
    });
    for (const [name, content] of Object.entries(filesIn(dir)))
      expect({ name, found: content.includes(Buffer.from(proxyPassword)) }).toEqual({ name, found: false });
    expect(loadResolved(dir).proxy?.password).toBe(proxyPassword);
    // The enrolment went to the proxy (refused there), not to gateway.example.com.
    expect(h.out()).toMatch(/could not reach the gateway to enrol this machine's key pair \(ECONNREFUSED\)/);
    expect(h.out()).not.toContain(proxyPassword);

    const argv = harness({ env: { VSC_KEY: key, ERP_PW: PASSWORD } });
    expect(
      await runCli([...args.slice(0, 2), '--dir', freshDir(), ...args.slice(4), '--proxy-password', 'x'], argv.io),
    ).toBe(2);
    expect(argv.err()).toContain('--proxy-password is not accepted on the command line');
  });

  it('reads the key and passwords from stdin, one line each, in order', async () => {
    const dir = freshDir();
    const key = generateApiKey('acme');
    const h = harness({ stdin: `${key}\n${PASSWORD}\n` });
    const code = await runCli(
      [
        'init',
        '--non-interactive',
        '--dir',
        dir,
        '--gateway-url',
        URL,
        '--api-key-stdin',
        '--database',
        'name=erp,dialect=mysql,user=reader,database=erp,password-stdin',
      ],
      h.io,
    );
    expect(h.err()).toBe('');
    expect(code).toBe(0);
    const config = loadResolved(dir);
    expect(config.apiKey).toBe(key);
    expect(config.databases.erp?.password).toBe(PASSWORD);
    expect(readFileSync(join(dir, 'agent.json'), 'utf8')).not.toContain(PASSWORD);
  });

  it('refuses a mistyped key before anything is written, without echoing it', async () => {
    const dir = freshDir();
    const key = generateApiKey('acme');
    const typo = key.slice(0, 20) + (key[20] === 'x' ? 'y' : 'x') + key.slice(21);
    const h = harness({ env: { VSC_KEY: typo, ERP_PW: PASSWORD } });
    const code = await runCli(
      [
        'init',
        '--non-interactive',
        '--dir',
        dir,
        '--gateway-url',
        URL,
        '--api-key-env',
        'VSC_KEY',
        '--database',
        'name=erp,dialect=mysql,user=r,database=erp,password-env=ERP_PW',
      ],
      h.io,
    );
    expect(code).toBe(2);
    expect(h.err()).toMatch(/API key: checksum mismatch/);
    expect(h.err()).not.toContain(typo);
    expect(existsSync(dir)).toBe(false);
  });

  it('refuses secrets given as argv values, before anything is written', async () => {
    const dir = freshDir();
    const h = harness({ env: { VSC_KEY: generateApiKey('acme') } });
    const code = await runCli(
      [
        'init',
        '--non-interactive',
        '--dir',
        dir,
        '--gateway-url',
        URL,
        '--api-key-env',
        'VSC_KEY',
        '--database',
        `name=erp,dialect=mysql,user=r,database=erp,password=${PASSWORD}`,
      ],
      h.io,
    );
    expect(code).toBe(2);
    expect(h.err()).toMatch(/password=… is not accepted on the command line/);
    expect(h.err()).not.toContain(PASSWORD);
    const h2 = harness();
    expect(await runCli(['init', '--non-interactive', '--dir', dir, '--api-key', generateApiKey('acme')], h2.io)).toBe(
      2,
    );
    expect(h2.err()).toMatch(/--api-key is not accepted on the command line/);
    expect(existsSync(dir)).toBe(false);
  });

  it('names a missing environment variable, a bad URL and a bad database setting', async () => {
    const base = (
      env: NodeJS.ProcessEnv,
      url = URL,
      db = 'name=erp,dialect=mysql,user=r,database=erp,password-env=ERP_PW',
    ) => {
      const h = harness({ env });
      return runCli(
        [
          'init',
          '--non-interactive',
          '--dir',
          freshDir(),
          '--gateway-url',
          url,
          '--api-key-env',
          'VSC_KEY',
          '--database',
          db,
        ],
        h.io,
      ).then((code) => ({ code, err: h.err() }));
    };
    const key = generateApiKey('acme');
    expect(await base({ VSC_KEY: key })).toEqual({
      code: 2,
      err: 'environment variable ERP_PW (password of database erp) is not set\n',
    });
    expect(await base({ ERP_PW: PASSWORD })).toEqual({
      code: 2,
      err: 'environment variable VSC_KEY (the API key) is not set\n',
    });
    expect((await base({ VSC_KEY: key, ERP_PW: PASSWORD }, 'https://g.example.com/')).err).toMatch(
      /--gateway-url: must start with ws:\/\/ or wss:\/\//,
    );
    expect(
      (
        await base(
          { VSC_KEY: key, ERP_PW: PASSWORD },
          URL,
          'name=erp,dialect=oracle,user=r,database=erp,password-env=ERP_PW',
        )
      ).err,
    ).toMatch(/dialect must be one of/);
    expect(
      (
        await base(
          { VSC_KEY: key, ERP_PW: PASSWORD },
          URL,
          'name=erp,dialect=mysql,port=70000,user=r,database=erp,password-env=ERP_PW',
        )
      ).err,
    ).toMatch(/databases\.erp\.port/);
  });

  it('will not replace an existing agent.json without --force', async () => {
    const dir = freshDir();
    const env = { VSC_KEY: generateApiKey('acme'), ERP_PW: PASSWORD };
    const args = [
      'init',
      '--non-interactive',
      '--dir',
      dir,
      '--gateway-url',
      URL,
      '--api-key-env',
      'VSC_KEY',
      '--database',
      'name=erp,dialect=mysql,user=r,database=erp,password-env=ERP_PW',
    ];
    expect(await runCli(args, harness({ env }).io)).toBe(0);
    const before = readFileSync(join(dir, 'agent.json'), 'utf8');
    const h = harness({ env: { ...env, ERP_PW: PASSWORD_2 } });
    expect(await runCli(args, h.io)).toBe(2);
    expect(h.err()).toMatch(/agent\.json exists; pass --force/);
    expect(readFileSync(join(dir, 'agent.json'), 'utf8')).toBe(before);
    expect(loadResolved(dir).databases.erp?.password).toBe(PASSWORD);

    expect(
      await runCli(
        [
          ...args.slice(0, -2),
          '--database',
          'name=other,dialect=mysql,user=r,database=o,password-env=ERP_PW',
          '--force',
        ],
        harness({ env: { ...env, ERP_PW: PASSWORD_2 } }).io,
      ),
    ).toBe(0);
    expect(loadResolved(dir).databases.other?.password).toBe(PASSWORD_2);
    expect(openVault({ dir }).names()).toEqual(['agentIdentityKey', 'apiKey', 'database.other.password']);
  });

  it("stops with the vault's reason when the folder holds a vault from another machine", async () => {
    const dir = freshDir();
    openVault({ dir, machineId: 'another-machine' }).set('apiKey', 'x');
    const h = harness({ env: { VSC_KEY: generateApiKey('acme'), ERP_PW: PASSWORD } });
    const code = await runCli(
      [
        'init',
        '--non-interactive',
        '--dir',
        dir,
        '--gateway-url',
        URL,
        '--api-key-env',
        'VSC_KEY',
        '--database',
        'name=erp,dialect=mysql,user=r,database=erp,password-env=ERP_PW',
      ],
      h.io,
    );
    expect(code).toBe(1);
    expect(h.err()).toMatch(/sealed on another machine/);
    expect(existsSync(join(dir, 'agent.json'))).toBe(false);
  });
});

describe('mini-connector init, interactive', () => {
  it('asks for everything on stdin, re-asks a mistyped key, and writes the same files', async () => {
    const dir = freshDir();
    const key = generateApiKey('acme');
    const typo = key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A');
    const answers = [
      'http://wrong.example.com', // refused: not ws://
      URL,
      typo, // refused: checksum
      key,
      'erp',
      'mysql',
      '', // host: default
      '', // port: default for mysql
      'reader',
      PASSWORD,
      'erp',
      'y',
      'wh',
      'postgres',
      'db.local',
      '6432',
      'ro',
      PASSWORD_2,
      'warehouse',
      'n',
    ];
    const h = harness({ stdin: `${answers.join('\n')}\n` });
    const code = await runCli(['init', '--dir', dir], h.io);
    expect(h.err()).toBe('');
    expect(code).toBe(0);
    expect(h.out()).toContain('Gateway URL');
    expect(h.out()).toMatch(/must start with ws:\/\/ or wss:\/\//);
    expect(h.out()).toMatch(/checksum mismatch/);
    expect(h.out()).toContain('Port [3306]');
    expect(h.out()).not.toContain(typo);
    const config = loadResolved(dir);
    expect(config.apiKey).toBe(key);
    expect(config.databases.erp).toMatchObject({
      dialect: 'mysql',
      host: '127.0.0.1',
      port: 3306,
      user: 'reader',
      password: PASSWORD,
      database: 'erp',
    });
    expect(config.databases.wh).toMatchObject({
      dialect: 'postgres',
      host: 'db.local',
      port: 6432,
      user: 'ro',
      password: PASSWORD_2,
      database: 'warehouse',
    });
    for (const content of Object.values(filesIn(dir))) {
      expect(content.includes(Buffer.from(PASSWORD))).toBe(false);
      expect(content.includes(Buffer.from(key))).toBe(false);
    }
  });

  it('does not echo the key or passwords typed on a terminal, while it echoes other answers', async () => {
    const dir = freshDir();
    const key = generateApiKey('acme');
    const answers = [URL, key, 'erp', 'mysql', '', '', 'reader-echoed', PASSWORD, 'erp', 'n'];
    const h = harness({ tty: true });
    // Types each answer only once its prompt is on screen, as a person at a terminal does.
    let answeredAt = -1;
    let timer: NodeJS.Timeout | undefined;
    h.io.stdout.on('data', () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        const out = h.out();
        // A prompt ends the output, possibly followed by readline's cursor move (ESC [ n G).
        // eslint-disable-next-line no-control-regex
        if (answeredAt === out.length || !/: (\u001b\[\d+G)?$/.test(out)) return;
        answeredAt = out.length;
        const answer = answers.shift();
        if (answer !== undefined) h.io.stdin.write(`${answer}\r`);
        if (answers.length === 0) h.io.stdin.end();
      }, 10);
    });
    const code = await runCli(['init', '--dir', dir], h.io);
    expect(h.err()).toBe('');
    expect(answers).toEqual([]);
    expect(code).toBe(0);
    expect(h.out()).toContain('reader-echoed');
    expect(h.out()).toContain(URL);
    expect(h.out()).not.toContain(PASSWORD);
    expect(h.out()).not.toContain(key);
    expect(loadResolved(dir).databases.erp?.password).toBe(PASSWORD);
  });

  it('writes nothing when the input ends before the answers are complete', async () => {
    const dir = freshDir();
    const key = generateApiKey('acme');
    const h = harness({ stdin: `${URL}\n${key}\nerp\nmysql\n` });
    const code = await runCli(['init', '--dir', dir], h.io);
    expect(code).toBe(2);
    expect(h.err()).toMatch(/input ended before "Host" was answered; nothing was written/);
    expect(existsSync(dir)).toBe(false);
  });

  it('asks before replacing an existing agent.json, and keeps it when told no', async () => {
    const dir = freshDir();
    const env = { VSC_KEY: generateApiKey('acme'), ERP_PW: PASSWORD };
    await runCli(
      [
        'init',
        '--non-interactive',
        '--dir',
        dir,
        '--gateway-url',
        URL,
        '--api-key-env',
        'VSC_KEY',
        '--database',
        'name=erp,dialect=mysql,user=r,database=erp,password-env=ERP_PW',
      ],
      harness({ env }).io,
    );
    const before = readFileSync(join(dir, 'agent.json'), 'utf8');
    const h = harness({ stdin: 'n\n' });
    expect(await runCli(['init', '--dir', dir], h.io)).toBe(1);
    expect(h.out()).toMatch(/agent\.json exists; replace it\?/);
    expect(readFileSync(join(dir, 'agent.json'), 'utf8')).toBe(before);
  });
});
