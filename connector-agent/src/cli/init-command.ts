import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import {
  checkApiKey,
  DIALECTS,
  parseCommand,
  publicKeyFingerprint,
  type Dialect,
  type ParsedValues,
} from '@vansales/protocol';
import { AgentConfig, AgentConfigError, parseAgentConfig } from '../config';
import { VAULT_FILE, VaultError, openVault, writeFileAtomic } from '../vault/vault';
import { VERSION_LINE, type CliCommand, type CliIo } from './command';
import {
  createGatewayAuth,
  ensureIdentityKey,
  GatewayAuthError,
  IDENTITY_KEY_SECRET,
  type GatewayAuth,
} from '../gateway-auth';
import { API_ARTIFACT_CACHE_DIR, createApiArtifactClient } from '../api-artifacts';
import { machineId } from '../machine-id';
import { createGatewayNetwork, ProxyConfigError, ProxyRefusedError } from '../net';

/**
 * `mini-connector init`: asks for the gateway, the API key and the site's databases, stores the
 * secrets in the local vault and writes an agent.json that refers to them by name.
 *
 * Interactive by default. `--non-interactive` is for scripted installs; secrets then come only from
 * environment variables or stdin, never from argv (which `ps` shows to every user):
 *
 *   mini-connector init --non-interactive --dir /etc/vansales --gateway-url wss://g.example.com/v1/agent/connect \
 *     --api-key-env VSC_API_KEY \
 *     --database name=erp,dialect=mysql,host=10.0.0.5,port=3306,user=reader,database=erp,password-env=ERP_PW
 *
 * `--api-key-stdin` and a database's `password-stdin` read one line of stdin each: the API key
 * first, then the databases' passwords in the order given. `--force` replaces an existing agent.json.
 *
 * Init also makes the agent's key pair (kept in the vault; an existing one is kept) and enrols its
 * public key with the gateway in the same step, so the API key works from this machine only. A
 * gateway out of reach is not an error: `run` enrols on its first connection. A refusal (the key is
 * already enrolled by another machine) is: exit 3, saying what the operator should do.
 */

const DEFAULT_PORT: Record<Dialect, number> = { postgres: 5432, mysql: 3306, mssql: 1433 };
const DATABASE_NAME = /^[A-Za-z0-9_.-]{1,128}$/;
export const API_KEY_SECRET = 'apiKey';
/** The proxy's password in the vault (agent.json's `proxy.password` refers to it). */
export const PROXY_PASSWORD_SECRET = 'proxyPassword';
export const databasePasswordSecret = (name: string) => `database.${name}.password`;

interface DatabaseAnswers {
  name: string;
  dialect: string;
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  statementTimeoutMs?: number;
}

interface Answers {
  dir: string;
  gatewayUrl: string;
  apiKey: string;
  databases: DatabaseAnswers[];
  force: boolean;
  /** From --proxy-url, --proxy-user, --proxy-password-env (README "Corporate networks"). */
  proxy?: { url: string; username?: string; password?: string; noProxy?: string };
  tlsCaFile?: string;
}

/** A bad answer or flag; the message never holds a secret. */
class InitError extends Error {}

function checkGatewayUrl(url: string): string | undefined {
  const parsed = AgentConfig.shape.gatewayUrl.safeParse(url);
  return parsed.success ? undefined : (parsed.error.issues[0]?.message ?? 'invalid URL');
}

// ---- prompts -------------------------------------------------------------------------------

interface Prompter {
  ask(question: string, options?: { default?: string; secret?: boolean }): Promise<string>;
  say(text: string): void;
  close(): void;
}

/**
 * Line prompts over the injected streams. On a terminal, what is typed for a secret is not echoed:
 * readline's echo goes through an output that is muted unless a non-secret question is waiting.
 * (A whole script pasted at once is echoed with the first question: readline reads it in one go.)
 */
function createPrompter(io: CliIo): Prompter {
  const terminal = Boolean((io.stdin as { isTTY?: boolean }).isTTY);
  // Echo is on only while a question that is not a secret waits, so keys typed ahead of a
  // password prompt are not shown either.
  let muted = true;
  const output = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      if (!muted) io.stdout.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: io.stdin, output, terminal });
  // Created at once so lines that arrive before a question is asked are buffered, not lost.
  const lines = rl[Symbol.asyncIterator]();
  rl.on('SIGINT', () => rl.close());
  // Piped answers end the input, which closes the interface while lines are still buffered for the
  // questions to come; a closed interface refuses to prompt (Node 24 and later), so the label is then
  // written directly, as the prompt would have.
  let closed = false;
  rl.on('close', () => (closed = true));
  return {
    async ask(question, options = {}) {
      const label =
        options.default !== undefined && options.default !== ''
          ? `${question} [${options.default}]: `
          : `${question}: `;
      if (options.secret || closed) {
        if (!closed) rl.setPrompt('');
        io.stdout.write(label);
      } else {
        muted = false;
        rl.setPrompt(label);
        rl.prompt();
      }
      const next = await lines.next();
      muted = true;
      if (options.secret && terminal) io.stdout.write('\n');
      if (next.done) throw new InitError(`input ended before "${question}" was answered; nothing was written`);
      const answer = options.secret ? (next.value as string) : (next.value as string).trim();
      return answer === '' && options.default !== undefined ? options.default : answer;
    },
    say(text) {
      io.stdout.write(`${text}\n`);
    },
    close: () => rl.close(),
  };
}

/** Asks until `check` accepts the answer (it returns a reason to refuse). */
async function askValid(
  p: Prompter,
  question: string,
  check: (answer: string) => string | undefined,
  options: { default?: string; secret?: boolean } = {},
): Promise<string> {
  for (;;) {
    const answer = await p.ask(question, options);
    const problem = check(answer);
    if (!problem) return answer;
    p.say(`  ${problem}`);
  }
}

const required = (what: string) => (a: string) => (a === '' ? `${what} is required` : undefined);

async function askDatabase(p: Prompter, taken: Set<string>): Promise<DatabaseAnswers> {
  const name = await askValid(p, 'Database name (how workflows refer to it)', (a) =>
    !DATABASE_NAME.test(a)
      ? 'use letters, digits, _ . - (at most 128)'
      : taken.has(a)
        ? `a database named ${a} is already configured`
        : undefined,
  );
  const dialect = (await askValid(p, `Dialect (${DIALECTS.join('|')})`, (a) =>
    (DIALECTS as readonly string[]).includes(a) ? undefined : `one of ${DIALECTS.join(', ')}`,
  )) as Dialect;
  const host = await askValid(p, 'Host', required('host'), { default: '127.0.0.1' });
  const port = await askValid(
    p,
    'Port',
    (a) => (/^\d{1,5}$/.test(a) && Number(a) >= 1 && Number(a) <= 65535 ? undefined : 'a port number, 1 to 65535'),
    {
      default: String(DEFAULT_PORT[dialect]),
    },
  );
  const user = await askValid(p, 'User (a read-only user is recommended)', required('user'));
  const password = await p.ask('Password', { secret: true });
  const database = await askValid(p, 'Database (schema/catalog name on the server)', required('database'));
  return { name, dialect, host, port: Number(port), user, password, database };
}

async function interactive(io: CliIo, flags: Flags): Promise<Answers | undefined> {
  const p = createPrompter(io);
  try {
    p.say(
      'Setting up this mini connector. Secrets are kept in an encrypted vault on this machine, never in agent.json.',
    );
    const dir = resolve(
      flags.dir ??
        (await askValid(p, 'Folder for agent.json and the vault', required('folder'), { default: process.cwd() })),
    );
    let force = flags.force;
    if (!force && existsSync(join(dir, 'agent.json'))) {
      const answer = await p.ask(`${join(dir, 'agent.json')} exists; replace it? (y/N)`, { default: 'n' });
      if (!/^y(es)?$/i.test(answer)) {
        p.say('nothing was changed');
        return undefined;
      }
      force = true;
    }
    const gatewayUrl = await askValid(p, 'Gateway URL (wss://…/v1/agent/connect)', checkGatewayUrl);
    const apiKey = (
      await askValid(
        p,
        'API key (vmc_…)',
        (a) => {
          const check = checkApiKey(a);
          return check.ok ? undefined : check.reason;
        },
        { secret: true },
      )
    ).trim();
    const databases: DatabaseAnswers[] = [];
    for (;;) {
      databases.push(await askDatabase(p, new Set(databases.map((d) => d.name))));
      const more = await p.ask('Add another database? (y/N)', { default: 'n' });
      if (!/^y(es)?$/i.test(more)) break;
    }
    return { dir, gatewayUrl, apiKey, databases, force };
  } finally {
    p.close();
  }
}

// ---- flags ---------------------------------------------------------------------------------

interface DatabaseSpec {
  fields: Map<string, string>;
  passwordFrom: { env: string } | { stdin: true };
}

interface Flags {
  nonInteractive: boolean;
  force: boolean;
  dir?: string;
  gatewayUrl?: string;
  apiKeyEnv?: string;
  apiKeyStdin: boolean;
  databases: DatabaseSpec[];
  proxyUrl?: string;
  proxyUser?: string;
  proxyPasswordEnv?: string;
  noProxy?: string;
  tlsCaFile?: string;
}

const NO_SECRETS_IN_ARGV =
  'is not accepted on the command line, where every user can read it (ps); use an environment variable or stdin';
const SPEC_KEYS = new Set([
  'name',
  'dialect',
  'host',
  'port',
  'user',
  'database',
  'password-env',
  'password-stdin',
  'statement-timeout-ms',
]);

function parseDatabaseSpec(spec: string): DatabaseSpec {
  const fields = new Map<string, string>();
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    const key = (eq < 0 ? part : part.slice(0, eq)).trim();
    if (key === 'password')
      throw new InitError(`--database password=… ${NO_SECRETS_IN_ARGV} (password-env=VAR or password-stdin)`);
    if (!SPEC_KEYS.has(key))
      throw new InitError(`--database: unknown setting "${key}" (known: ${[...SPEC_KEYS].join(', ')})`);
    if (fields.has(key)) throw new InitError(`--database: ${key} given twice`);
    fields.set(key, eq < 0 ? '' : part.slice(eq + 1).trim());
  }
  const env = fields.get('password-env');
  const stdin = fields.has('password-stdin');
  if ((env !== undefined) === stdin)
    throw new InitError(
      `--database ${fields.get('name') ?? spec.split(',')[0]}: give exactly one of password-env=VAR or password-stdin`,
    );
  if (env === '') throw new InitError('--database: password-env needs the name of an environment variable');
  return { fields, passwordFrom: env !== undefined ? { env } : { stdin: true } };
}

const INIT_USAGE = `usage: mini-connector init [--dir <folder>] [--force]
       mini-connector init --non-interactive --dir <folder> --gateway-url <wss-url>
                           (--api-key-env <VAR> | --api-key-stdin)
                           --database name=…,dialect=…,host=…,port=…,user=…,database=…,(password-env=VAR|password-stdin) …
                           [--proxy-url http://proxy:3128 [--proxy-user NAME] [--proxy-password-env VAR]
                            [--no-proxy LIST]] [--tls-ca-file <pem>]

  Sets up agent.json and the local credential vault. Interactive unless --non-interactive; secrets then
  come only from environment variables or stdin, never from the command line (which ps shows to all).
  Makes this machine's key pair (kept in the vault) and enrols it with the gateway, so the API key works
  from this machine only; exit 3 when the gateway refuses (the key is enrolled by another machine).
`;

const INIT_OPTIONS = {
  'non-interactive': { type: 'boolean' },
  force: { type: 'boolean' },
  dir: { type: 'string' },
  'gateway-url': { type: 'string' },
  'api-key-env': { type: 'string' },
  'api-key-stdin': { type: 'boolean' },
  database: { type: 'string', multiple: true },
  'proxy-url': { type: 'string' },
  'proxy-user': { type: 'string' },
  'proxy-password-env': { type: 'string' },
  'no-proxy': { type: 'string' },
  'tls-ca-file': { type: 'string' },
  // Declared only to refuse them with the reason, instead of a bare "unknown option".
  'api-key': { type: 'string' },
  password: { type: 'string' },
  'proxy-password': { type: 'string' },
} as const;

function flagsFrom(values: ParsedValues<typeof INIT_OPTIONS>): Flags {
  for (const secret of ['api-key', 'password'] as const) {
    if (values[secret] !== undefined)
      throw new InitError(`--${secret} ${NO_SECRETS_IN_ARGV} (--api-key-env VAR or --api-key-stdin)`);
  }
  if (values['proxy-password'] !== undefined)
    throw new InitError(`--proxy-password ${NO_SECRETS_IN_ARGV} (--proxy-password-env VAR)`);
  return {
    nonInteractive: values['non-interactive'] ?? false,
    force: values.force ?? false,
    dir: values.dir,
    gatewayUrl: values['gateway-url'],
    apiKeyEnv: values['api-key-env'],
    apiKeyStdin: values['api-key-stdin'] ?? false,
    databases: (values.database ?? []).map(parseDatabaseSpec),
    proxyUrl: values['proxy-url'],
    proxyUser: values['proxy-user'],
    proxyPasswordEnv: values['proxy-password-env'],
    noProxy: values['no-proxy'],
    tlsCaFile: values['tls-ca-file'],
  };
}

/** The proxy and CA flags (either mode), with the proxy's password read from its variable. */
function networkAnswers(flags: Flags, io: CliIo): Pick<Answers, 'proxy' | 'tlsCaFile'> {
  if (!flags.proxyUrl && (flags.proxyUser || flags.proxyPasswordEnv || flags.noProxy))
    throw new InitError('--proxy-user, --proxy-password-env and --no-proxy need --proxy-url');
  let password: string | undefined;
  if (flags.proxyPasswordEnv !== undefined) {
    password = io.env[flags.proxyPasswordEnv];
    if (password === undefined)
      throw new InitError(`environment variable ${flags.proxyPasswordEnv} (the proxy's password) is not set`);
  }
  return {
    ...(flags.proxyUrl
      ? {
          proxy: {
            url: flags.proxyUrl,
            ...(flags.proxyUser ? { username: flags.proxyUser } : {}),
            ...(password !== undefined ? { password } : {}),
            ...(flags.noProxy ? { noProxy: flags.noProxy } : {}),
          },
        }
      : {}),
    ...(flags.tlsCaFile ? { tlsCaFile: resolve(flags.tlsCaFile) } : {}),
  };
}

/** Reads one stdin line per secret asked for, in order; only created when a secret comes from stdin. */
function stdinSecrets(io: CliIo) {
  let lines: AsyncIterator<string> | undefined;
  let rl: ReturnType<typeof createInterface> | undefined;
  return {
    async next(what: string): Promise<string> {
      if (!lines) {
        rl = createInterface({ input: io.stdin, terminal: false });
        lines = rl[Symbol.asyncIterator]();
      }
      const next = await lines.next();
      if (next.done) throw new InitError(`stdin ended before the ${what} was read; nothing was written`);
      return next.value;
    },
    close: () => rl?.close(),
  };
}

async function nonInteractive(io: CliIo, flags: Flags): Promise<Answers> {
  if (!flags.dir) throw new InitError('--dir <folder> is required with --non-interactive');
  if (!flags.gatewayUrl) throw new InitError('--gateway-url <url> is required with --non-interactive');
  if ((flags.apiKeyEnv === undefined) === !flags.apiKeyStdin)
    throw new InitError('give exactly one of --api-key-env <VAR> or --api-key-stdin');
  if (flags.databases.length === 0) throw new InitError('at least one --database name=…,dialect=…,… is required');
  const urlProblem = checkGatewayUrl(flags.gatewayUrl);
  if (urlProblem) throw new InitError(`--gateway-url: ${urlProblem}`);

  const fromEnv = (name: string, what: string) => {
    const v = io.env[name];
    if (v === undefined) throw new InitError(`environment variable ${name} (${what}) is not set`);
    return v;
  };
  const stdin = stdinSecrets(io);
  try {
    const apiKey = (
      flags.apiKeyEnv !== undefined ? fromEnv(flags.apiKeyEnv, 'the API key') : await stdin.next('API key')
    ).trim();
    const check = checkApiKey(apiKey);
    if (!check.ok) throw new InitError(`API key: ${check.reason}`);

    const databases: DatabaseAnswers[] = [];
    const taken = new Set<string>();
    for (const spec of flags.databases) {
      const f = spec.fields;
      const name = f.get('name') ?? '';
      if (!DATABASE_NAME.test(name)) throw new InitError(`--database: name=… is required (letters, digits, _ . -)`);
      if (taken.has(name)) throw new InitError(`--database: ${name} given twice`);
      taken.add(name);
      const dialect = f.get('dialect') ?? '';
      if (!(DIALECTS as readonly string[]).includes(dialect))
        throw new InitError(`--database ${name}: dialect must be one of ${DIALECTS.join(', ')}`);
      const port = f.get('port') ?? String(DEFAULT_PORT[dialect as Dialect]);
      if (!/^\d{1,5}$/.test(port)) throw new InitError(`--database ${name}: port must be a number`);
      const timeout = f.get('statement-timeout-ms');
      if (timeout !== undefined && !/^\d+$/.test(timeout))
        throw new InitError(`--database ${name}: statement-timeout-ms must be a number`);
      for (const key of ['user', 'database'])
        if (!f.get(key)) throw new InitError(`--database ${name}: ${key}=… is required`);
      const password =
        'env' in spec.passwordFrom
          ? fromEnv(spec.passwordFrom.env, `password of database ${name}`)
          : await stdin.next(`password of database ${name}`);
      databases.push({
        name,
        dialect,
        host: f.get('host') || '127.0.0.1',
        port: Number(port),
        user: f.get('user')!,
        password,
        database: f.get('database')!,
        ...(timeout !== undefined ? { statementTimeoutMs: Number(timeout) } : {}),
      });
    }
    return { dir: resolve(flags.dir), gatewayUrl: flags.gatewayUrl, apiKey, databases, force: flags.force };
  } finally {
    stdin.close();
  }
}

// ---- writing -------------------------------------------------------------------------------

/**
 * Validates everything first, then fills the vault, then writes agent.json: a refusal writes nothing.
 * Returns the agent's private key (made now, or kept from an earlier init on this machine).
 */
function write(answers: Answers, io: CliIo): string {
  const configPath = join(answers.dir, 'agent.json');
  const database = (d: DatabaseAnswers, password: unknown) => ({
    dialect: d.dialect,
    host: d.host,
    port: d.port,
    user: d.user,
    password,
    database: d.database,
    ...(d.statementTimeoutMs !== undefined ? { statementTimeoutMs: d.statementTimeoutMs } : {}),
  });
  const network = {
    ...(answers.tlsCaFile ? { tlsCaFile: answers.tlsCaFile } : {}),
  };
  const withSecrets = {
    gatewayUrl: answers.gatewayUrl,
    apiKey: answers.apiKey,
    ...network,
    ...(answers.proxy ? { proxy: answers.proxy } : {}),
    databases: Object.fromEntries(answers.databases.map((d) => [d.name, database(d, d.password)])),
  };
  // The same schema the agent loads with, so init never writes a file the agent would refuse.
  parseAgentConfig(withSecrets, 'the answers given');
  const onDisk = {
    gatewayUrl: answers.gatewayUrl,
    apiKey: { vault: API_KEY_SECRET },
    ...network,
    ...(answers.proxy
      ? {
          proxy: {
            ...answers.proxy,
            ...(answers.proxy.password !== undefined ? { password: { vault: PROXY_PASSWORD_SECRET } } : {}),
          },
        }
      : {}),
    databases: Object.fromEntries(
      answers.databases.map((d) => [d.name, database(d, { vault: databasePasswordSecret(d.name) })]),
    ),
  };
  if (!answers.force && existsSync(configPath)) throw new InitError(`${configPath} exists; pass --force to replace it`);

  const vault = openVault({ dir: answers.dir });
  mkdirSync(answers.dir, { recursive: true, mode: 0o700 });
  vault.set(API_KEY_SECRET, answers.apiKey);
  const identity = ensureIdentityKey(vault);
  const kept = new Set([API_KEY_SECRET, IDENTITY_KEY_SECRET]);
  if (answers.proxy?.password !== undefined) {
    vault.set(PROXY_PASSWORD_SECRET, answers.proxy.password);
    kept.add(PROXY_PASSWORD_SECRET);
  }
  for (const d of answers.databases) {
    vault.set(databasePasswordSecret(d.name), d.password);
    kept.add(databasePasswordSecret(d.name));
  }
  // Passwords of databases this agent.json no longer names go with it.
  for (const name of vault.names()) if (/^database\..+\.password$/.test(name) && !kept.has(name)) vault.delete(name);
  writeFileAtomic(configPath, `${JSON.stringify(onDisk, null, 2)}\n`);

  io.stdout.write(
    `wrote ${configPath} (no secrets in it) and ${kept.size} secrets to the vault ${join(answers.dir, VAULT_FILE)}\n` +
      `start the agent with: mini-connector run --config ${configPath}\n`,
  );
  return identity.privateKeyPem;
}

/**
 * Pins the keys the gateway's SDK registry signs with, beside the config (trust on first use, at
 * enrolment): artifacts signed by another key are refused from then on. A gateway that cannot say
 * yet leaves it to the first artifact the agent fetches.
 */
async function pinRegistryKeys(answers: Answers, auth: GatewayAuth, io: CliIo): Promise<void> {
  try {
    const cacheDir = join(answers.dir, API_ARTIFACT_CACHE_DIR);
    const ids = await createApiArtifactClient({ auth, cacheDir }).pinRegistryKeys();
    io.stdout.write(`trusting the gateway's SDK registry keys ${ids.join(', ')} (pinned in ${cacheDir})\n`);
  } catch (err) {
    io.stdout.write(
      `could not pin the gateway's SDK registry keys (${(err as Error).message}); the agent pins them when it first fetches an artifact\n`,
    );
  }
}

/** Enrols this machine's public key with the gateway; 0 when enrolled or deferred, 3 when refused. */
async function enrol(answers: Answers, identityKey: string, io: CliIo): Promise<number> {
  let network;
  try {
    // The proxy and CA the agent will use, so enrolment goes the way `run` will (HTTPS_PROXY too).
    network = createGatewayNetwork(answers, io.env);
  } catch (err) {
    if (!(err instanceof ProxyConfigError)) throw err;
    io.stderr.write(`${err.message}\n`);
    return 2;
  }
  const auth = createGatewayAuth({
    gatewayUrl: answers.gatewayUrl,
    apiKey: answers.apiKey,
    identityKey,
    machineLabel: machineId(),
    network,
  });
  const fingerprint = publicKeyFingerprint(auth.publicKey);
  io.stdout.write(`this machine's public key: ${auth.publicKey} (${fingerprint})\n`);
  try {
    const result = await auth.enrol();
    io.stdout.write(
      result.enrolled
        ? `enrolled ${fingerprint} with the gateway: the API key now works from this machine only\n`
        : `${fingerprint} was already enrolled for this API key\n`,
    );
    await pinRegistryKeys(answers, auth, io);
    return 0;
  } catch (err) {
    if (err instanceof GatewayAuthError && (err.status === 401 || err.status === 403)) {
      io.stderr.write(`the gateway refused to enrol this machine: ${err.message}\n`);
      return 3;
    }
    const detail =
      err instanceof GatewayAuthError
        ? `HTTP ${err.status}`
        : err instanceof ProxyRefusedError
          ? err.message
          : ((err as NodeJS.ErrnoException).code ?? String(err));
    io.stdout.write(
      `could not reach the gateway to enrol this machine's key pair (${detail}); the agent enrols it when it first connects\n`,
    );
    return 0;
  }
}

export const initCommand: CliCommand = {
  words: ['init'],
  summary: 'set up agent.json and the local credential vault (interactive, or --non-interactive)',
  async run(args, io) {
    const parsed = parseCommand(args, { usage: INIT_USAGE, version: VERSION_LINE, options: INIT_OPTIONS }, io);
    if (!parsed.ok) return parsed.exitCode;
    try {
      const flags = flagsFrom(parsed.values);
      const answers = flags.nonInteractive ? await nonInteractive(io, flags) : await interactive(io, flags);
      if (!answers) return 1;
      Object.assign(answers, networkAnswers(flags, io));
      const identityKey = write(answers, io);
      return await enrol(answers, identityKey, io);
    } catch (err) {
      if (err instanceof InitError || err instanceof AgentConfigError) {
        io.stderr.write(`${err.message}\n`);
        return 2;
      }
      if (err instanceof VaultError) {
        io.stderr.write(`${err.message}\n`);
        return 1;
      }
      throw err;
    }
  },
};
