import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';

/**
 * Agent API keys: `vmc_<tenant>_<random>_<checksum>`.
 * - random: 40 base62 characters; the first 12 are a non-secret lookup id, the other 28 carry
 *   about 166 bits of secret.
 * - checksum: CRC32 of everything before it, in base62 (6 characters), so a typo is refused
 *   offline, before anything dials.
 */
const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const RANDOM_LENGTH = 40;
const LOOKUP_LENGTH = 12;
const CHECKSUM_LENGTH = 6;
export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9-]{1,39}$/;
const KEY_PATTERN = /^vmc_([a-z0-9][a-z0-9-]{1,39})_([0-9A-Za-z]{40})_([0-9A-Za-z]{6})$/;

function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      // 248 = 4 * 62: rejecting the top bytes keeps every character equally likely.
      if (byte < 248 && out.length < length) out += ALPHABET[byte % 62];
    }
  }
  return out;
}

function base62(value: number, width: number): string {
  let out = '';
  let n = value;
  do {
    out = ALPHABET[n % 62] + out;
    n = Math.floor(n / 62);
  } while (n > 0);
  return out.padStart(width, '0');
}

function checksumOf(body: string): string {
  return base62(crc32(body) >>> 0, CHECKSUM_LENGTH);
}

export interface ParsedApiKey {
  tenantId: string;
  lookup: string;
}

export type ApiKeyCheck = { ok: true; key: ParsedApiKey } | { ok: false; reason: string };

export function generateApiKey(tenantId: string): string {
  if (!TENANT_ID_PATTERN.test(tenantId)) throw new Error(`tenant id ${JSON.stringify(tenantId)} is not a valid slug`);
  const body = `vmc_${tenantId}_${randomBase62(RANDOM_LENGTH)}`;
  return `${body}_${checksumOf(body)}`;
}

/** Checks shape and checksum without any lookup; the reason never echoes the key. */
export function checkApiKey(key: string): ApiKeyCheck {
  const trimmed = key.trim();
  const match = KEY_PATTERN.exec(trimmed);
  if (!match) {
    return { ok: false, reason: 'not a Vansales agent key (expected vmc_<tenant>_<40 characters>_<6 characters>)' };
  }
  const [, tenantId, random, checksum] = match as unknown as [string, string, string, string];
  const body = trimmed.slice(0, trimmed.length - CHECKSUM_LENGTH - 1);
  if (checksumOf(body) !== checksum) {
    return {
      ok: false,
      reason: 'checksum mismatch: the key was mistyped or truncated; copy it again from where it was issued',
    };
  }
  return { ok: true, key: { tenantId, lookup: random.slice(0, LOOKUP_LENGTH) } };
}

export function hashApiKey(key: string): Buffer {
  return createHash('sha256').update(key.trim(), 'utf8').digest();
}

export function hashesEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A safe way to name a key in logs: tenant and lookup id only. */
export function describeApiKey(key: ParsedApiKey): string {
  return `vmc_${key.tenantId}_${key.lookup}…`;
}
