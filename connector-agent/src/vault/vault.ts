import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { machineId as localMachineId } from '../machine-id';
import { keyFileProblem } from './key-file-access';

/**
 * The site's local credential vault: one file of secrets sealed with AES-256-GCM under a key derived
 * (HKDF-SHA256) from a random 32-byte secret in `vault.key` (mode 0600) and this machine's id.
 * Copying the vault and its key to another machine, or editing the vault, makes it refuse to open.
 * It protects credentials in backups, copies and config files; it does not protect them from
 * someone who can read `vault.key` on this machine (root or the agent's own user).
 */

export const VAULT_FILE = 'vault.json.enc';
export const VAULT_KEY_FILE = 'vault.key';

export const VaultErrorCode = {
  /** The vault exists but its key file does not. */
  keyMissing: 'key-missing',
  /** The key file is not 32 bytes. */
  keyInvalid: 'key-invalid',
  /** The key file can be read by other users. */
  keyPermissions: 'key-permissions',
  /** The vault was sealed on another machine. */
  wrongMachine: 'wrong-machine',
  /** The key file is not the one the vault was sealed with. */
  wrongKey: 'wrong-key',
  /** The ciphertext or its header was changed: the authentication tag does not match. */
  tampered: 'tampered',
  /** The vault file is not a vault (not JSON, missing fields). */
  corrupt: 'corrupt',
  /** A vault format this agent does not read. */
  unsupportedVersion: 'unsupported-version',
  /** A secret name outside [A-Za-z0-9_.-]{1,200}. */
  badName: 'bad-name',
  /** A configuration refers to a secret the vault does not hold. */
  missingSecret: 'missing-secret',
  /** The file system refused; the message names the system error. */
  io: 'io',
} as const;
export type VaultErrorCode = (typeof VaultErrorCode)[keyof typeof VaultErrorCode];

/** The vault's one error type. Messages name files and secret names, never secret values. */
export class VaultError extends Error {
  override name = 'VaultError';
  constructor(
    readonly code: VaultErrorCode,
    message: string,
  ) {
    super(message);
  }

  /** Anything thrown inside the vault, as a VaultError. */
  static from(err: unknown, doing: string): VaultError {
    if (err instanceof VaultError) return err;
    const e = err as NodeJS.ErrnoException;
    return new VaultError(VaultErrorCode.io, `cannot ${doing}: ${e.code ?? e.message ?? String(err)}`);
  }
}

export interface Vault {
  /** Folder holding the vault and its key. */
  readonly dir: string;
  get(name: string): string | undefined;
  /** Stores a secret and rewrites the vault file atomically. */
  set(name: string, value: string): void;
  /** Removes a secret; false when there was none of that name. */
  delete(name: string): boolean;
  /** Names of the stored secrets, sorted. */
  names(): string[];
}

export interface OpenVaultOptions {
  dir: string;
  /** This machine's id as `machineId()` returns it (default: `machineId()`). */
  machineId?: string;
}

const SECRET_NAME = /^[A-Za-z0-9_.-]{1,200}$/;
const FORMAT = 'vansales-connect-vault';
const VERSION = 1;

const Envelope = z.object({
  format: z.literal(FORMAT),
  version: z.number().int(),
  cipher: z.literal('aes-256-gcm'),
  kdf: z.literal('hkdf-sha256'),
  /** Non-secret fingerprint of the machine id, to tell "another machine" from "another key". */
  machine: z.string().regex(/^[0-9a-f]{32}$/),
  /** HMAC of a constant under the derived key, to tell "another key" from "tampered". */
  keyCheck: z.string().regex(/^[0-9a-f]{32}$/),
  iv: z.string().regex(/^[0-9a-f]{24}$/),
  tag: z.string().regex(/^[0-9a-f]{32}$/),
  data: z.string().regex(/^[0-9a-f]*$/),
});
type Envelope = z.infer<typeof Envelope>;

const Plaintext = z.object({ secrets: z.record(z.string(), z.string()) });

function machineFingerprint(machineId: string): string {
  return createHash('sha256').update(`${FORMAT}/machine\0${machineId}`).digest('hex').slice(0, 32);
}

function deriveKey(secret: Buffer, machineId: string): Buffer {
  return Buffer.from(
    hkdfSync('sha256', secret, Buffer.from(`${FORMAT}/salt\0${machineId}`), `${FORMAT} v${VERSION} aes-256-gcm`, 32),
  );
}

function keyCheckOf(key: Buffer): string {
  return createHmac('sha256', key).update(`${FORMAT}/key-check`).digest('hex').slice(0, 32);
}

/** The header fields are authenticated with the ciphertext, so none can be swapped. */
function aad(e: Pick<Envelope, 'format' | 'version' | 'cipher' | 'kdf' | 'machine' | 'keyCheck'>): Buffer {
  return Buffer.from(JSON.stringify([e.format, e.version, e.cipher, e.kdf, e.machine, e.keyCheck]));
}

function sameHex(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

/** Writes a file by temp file + rename, mode 0600, so a crash leaves the old or the new file, never half. */
export function writeFileAtomic(path: string, data: string | Buffer): void {
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeFileSync(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // already renamed or never created
    }
    throw err;
  }
}

function readKey(dir: string, create: boolean): Buffer | undefined {
  const path = join(dir, VAULT_KEY_FILE);
  let key: Buffer;
  try {
    key = readFileSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw VaultError.from(err, `read the vault key ${path}`);
    if (!create) return undefined;
    const fresh = randomBytes(32);
    try {
      // 'wx': if another process created the key meanwhile, use theirs instead of overwriting it.
      writeFileSync(path, fresh, { flag: 'wx', mode: 0o600 });
      return fresh;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw VaultError.from(e, `create the vault key ${path}`);
      key = readFileSync(path);
    }
  }
  if (key.length !== 32)
    throw new VaultError(
      VaultErrorCode.keyInvalid,
      `vault key ${path} is ${key.length} bytes, expected 32: it is not a vault key`,
    );
  // Mode and owner on Linux, the ACL on Windows: a key others can read opens the vault anywhere on this machine.
  const problem = keyFileProblem(path);
  if (problem) throw new VaultError(VaultErrorCode.keyPermissions, `vault key ${path}: ${problem}`);
  return key;
}

function unseal(
  path: string,
  text: string,
  secret: Buffer | undefined,
  machineId: string,
  dir: string,
): Map<string, string> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new VaultError(VaultErrorCode.corrupt, `vault ${path} is not a vault file (not JSON)`);
  }
  const version = (json as { version?: unknown } | null)?.version;
  if ((json as { format?: unknown } | null)?.format === FORMAT && typeof version === 'number' && version !== VERSION) {
    throw new VaultError(
      VaultErrorCode.unsupportedVersion,
      `vault ${path} has format version ${version}; this agent reads version ${VERSION}`,
    );
  }
  const parsed = Envelope.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new VaultError(
      VaultErrorCode.corrupt,
      `vault ${path} is not a vault file (${issue ? `${issue.path.join('.')}: ${issue.message}` : 'bad header'})`,
    );
  }
  const e = parsed.data;
  if (!secret) {
    throw new VaultError(
      VaultErrorCode.keyMissing,
      `vault ${path} exists but its key ${join(dir, VAULT_KEY_FILE)} does not; the vault cannot be opened without it`,
    );
  }
  if (!sameHex(e.machine, machineFingerprint(machineId))) {
    throw new VaultError(
      VaultErrorCode.wrongMachine,
      `vault ${path} was sealed on another machine (machine id differs); a vault does not move between machines: run mini-connector init on this one`,
    );
  }
  const key = deriveKey(secret, machineId);
  if (!sameHex(e.keyCheck, keyCheckOf(key))) {
    throw new VaultError(
      VaultErrorCode.wrongKey,
      `vault ${path} was sealed with another key than ${join(dir, VAULT_KEY_FILE)}`,
    );
  }
  let plain: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(e.iv, 'hex'));
    decipher.setAAD(aad(e));
    decipher.setAuthTag(Buffer.from(e.tag, 'hex'));
    plain = Buffer.concat([decipher.update(Buffer.from(e.data, 'hex')), decipher.final()]);
  } catch {
    throw new VaultError(
      VaultErrorCode.tampered,
      `vault ${path} failed its integrity check (authentication tag mismatch): the file was modified or damaged`,
    );
  }
  const content = Plaintext.safeParse(JSON.parse(plain.toString('utf8')));
  if (!content.success) throw new VaultError(VaultErrorCode.corrupt, `vault ${path} decrypted to an unexpected shape`);
  return new Map(Object.entries(content.data.secrets));
}

function seal(secrets: Map<string, string>, key: Buffer, machineId: string): string {
  const header = {
    format: FORMAT,
    version: VERSION,
    cipher: 'aes-256-gcm',
    kdf: 'hkdf-sha256',
    machine: machineFingerprint(machineId),
    keyCheck: keyCheckOf(key),
  } as const;
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad(header));
  const plain = Buffer.from(
    JSON.stringify({ secrets: Object.fromEntries([...secrets].sort(([a], [b]) => (a < b ? -1 : 1))) }),
    'utf8',
  );
  const data = Buffer.concat([cipher.update(plain), cipher.final()]);
  plain.fill(0);
  const envelope: Envelope = {
    ...header,
    iv: iv.toString('hex'),
    tag: cipher.getAuthTag().toString('hex'),
    data: data.toString('hex'),
  };
  return `${JSON.stringify(envelope, null, 2)}\n`;
}

function checkName(name: string): void {
  if (!SECRET_NAME.test(name))
    throw new VaultError(
      VaultErrorCode.badName,
      `secret name ${JSON.stringify(name.slice(0, 64))} is not valid: use letters, digits, _ . - (at most 200)`,
    );
}

/**
 * Opens the vault in `dir` (created on the first `set`, with the folder at mode 0700 and the key at
 * 0600). Throws VaultError when the vault belongs to another machine, another key, or was changed.
 */
export function openVault(options: OpenVaultOptions): Vault {
  const { dir } = options;
  const id = options.machineId ?? localMachineId();
  const path = join(dir, VAULT_FILE);
  let secrets: Map<string, string>;
  let key: Buffer | undefined;
  try {
    let text: string | undefined;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    // The sealed vault, like its key, is for the agent's user only (written 0600): refused if wider.
    if (text !== undefined && process.platform !== 'win32') {
      const mode = statSync(path).mode & 0o777;
      if (mode & 0o077) {
        throw new VaultError(
          VaultErrorCode.keyPermissions,
          `vault ${path} can be read by other users (mode ${mode.toString(8).padStart(4, '0')}); run: chmod 600 ${path}`,
        );
      }
    }
    const secret = readKey(dir, false);
    secrets = text === undefined ? new Map() : unseal(path, text, secret, id, dir);
    key = secret && deriveKey(secret, id);
  } catch (err) {
    throw VaultError.from(err, `open vault ${path}`);
  }

  const persist = () => {
    try {
      if (!key) {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        key = deriveKey(readKey(dir, true)!, id);
      }
      writeFileAtomic(path, seal(secrets, key, id));
    } catch (err) {
      throw VaultError.from(err, `write vault ${path}`);
    }
  };

  return {
    dir,
    get(name) {
      checkName(name);
      return secrets.get(name);
    },
    set(name, value) {
      checkName(name);
      const previous = secrets.get(name);
      secrets.set(name, value);
      try {
        persist();
      } catch (err) {
        if (previous === undefined) secrets.delete(name);
        else secrets.set(name, previous);
        throw err;
      }
    },
    delete(name) {
      checkName(name);
      const previous = secrets.get(name);
      if (previous === undefined) return false;
      secrets.delete(name);
      try {
        persist();
      } catch (err) {
        secrets.set(name, previous);
        throw err;
      }
      return true;
    },
    names: () => [...secrets.keys()].sort(),
  };
}
