import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Verification of signed webhook deliveries, over the raw body bytes as they arrived (a body parsed
 * and serialised again is not the body that was signed). Three schemes:
 *
 * - Standard Webhooks (https://www.standardwebhooks.com, spec 1.0): `webhook-id`, `webhook-timestamp`
 *   (Unix seconds), `webhook-signature` = space-separated `v1,<base64 HMAC-SHA256(id.timestamp.body)>`;
 *   the key is the base64 after `whsec_`. Several signatures may be sent (the sender rotating).
 * - Stripe: `Stripe-Signature: t=<seconds>,v1=<hex HMAC-SHA256(t.body)>[,v1=…]`; the key is the whole
 *   `whsec_…` string as UTF-8. The delivery id is the event's `id` in the body (Stripe resends it as is).
 * - GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(body)>`, key the secret as UTF-8, delivery id
 *   `X-GitHub-Delivery`. GitHub signs no timestamp and no delivery id: a captured delivery replayed with
 *   a new `X-GitHub-Delivery` verifies; only its dedupe by delivery id stands between it and a new run.
 *
 * Every comparison is constant time over equal-length digests; a malformed header is a failed
 * verification, never an exception.
 */
export const WebhookScheme = {
  standardWebhooks: 'standard-webhooks',
  stripe: 'stripe',
  github: 'github',
} as const;
export type WebhookScheme = (typeof WebhookScheme)[keyof typeof WebhookScheme];

/** The Standard Webhooks spec's (and Stripe's default) tolerance between the signed timestamp and now. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** Header names, lower case as Node gives them. */
export const DELIVERY_ID_HEADER: Record<WebhookScheme, string | undefined> = {
  'standard-webhooks': 'webhook-id',
  stripe: undefined,
  github: 'x-github-delivery',
};

export type Headers = Record<string, string | string[] | undefined>;

export type VerifyFailure =
  /** The scheme's headers are not there or cannot be read: 401. */
  | { ok: false; reason: 'missing-signature'; message: string }
  /** No signature matches any live secret: 401. */
  | { ok: false; reason: 'bad-signature'; message: string }
  /** The signed timestamp is outside the tolerance (a replay, or a clock far off): 400. */
  | { ok: false; reason: 'stale-timestamp'; message: string };

export type VerifyResult = { ok: true; secretIndex: number; timestamp?: number } | VerifyFailure;

export interface VerifyInput {
  scheme: WebhookScheme;
  headers: Headers;
  body: Buffer;
  /** The hook's live secrets, newest first (two during a rotation). */
  secrets: readonly string[];
  /** Unix seconds. */
  now: number;
  toleranceSeconds?: number;
}

const header = (headers: Headers, name: string): string | undefined => {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
};

const hmac = (key: Buffer, ...parts: (string | Buffer)[]): Buffer => {
  const h = createHmac('sha256', key);
  for (const p of parts) h.update(p);
  return h.digest();
};

/** Constant time for equal lengths; a different length cannot be a match and says nothing about the digest. */
function sameDigest(expected: Buffer, given: Buffer): boolean {
  return expected.length === given.length && timingSafeEqual(expected, given);
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const HEX64 = /^[0-9a-fA-F]{64}$/;

/** The key bytes a secret stands for under a scheme. */
export function secretKey(scheme: WebhookScheme, secret: string): Buffer {
  if (scheme === 'standard-webhooks') {
    const b64 = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
    return Buffer.from(b64, 'base64');
  }
  return Buffer.from(secret, 'utf8');
}

/** A new secret: `whsec_` and 32 random bytes in base64, a valid key for every scheme. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** Why a caller's own secret (Stripe's, or one chosen for GitHub) cannot be used, or undefined. */
export function secretProblem(scheme: WebhookScheme, secret: string): string | undefined {
  if (secret.length > 512) return 'a secret is at most 512 characters';
  if (scheme === 'standard-webhooks') {
    const b64 = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
    if (!BASE64.test(b64)) return 'a Standard Webhooks secret is whsec_ followed by base64';
    const bytes = Buffer.from(b64, 'base64').length;
    if (bytes < 24 || bytes > 64) return `a Standard Webhooks key is 24 to 64 bytes (this one is ${bytes})`;
    return undefined;
  }
  if (secret.length < 16) return 'a secret is at least 16 characters';
  return undefined;
}

function checkTimestamp(text: string | undefined, now: number, tolerance: number): number | VerifyFailure {
  if (text === undefined || !/^\d{1,12}$/.test(text))
    return { ok: false, reason: 'missing-signature', message: 'the signature has no timestamp in Unix seconds' };
  const ts = Number(text);
  if (Math.abs(now - ts) > tolerance)
    return {
      ok: false,
      reason: 'stale-timestamp',
      message: `the signed timestamp is ${Math.round(now - ts)} s from the gateway's clock; at most ${tolerance} s is accepted (a replay, or a sender whose clock is off)`,
    };
  return ts;
}

const noMatch: VerifyFailure = {
  ok: false,
  reason: 'bad-signature',
  message: "no signature matches this hook's secret",
};

/** Verifies a delivery against the hook's live secrets. */
export function verifyDelivery(input: VerifyInput): VerifyResult {
  const tolerance = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const { headers, body, secrets, now } = input;
  switch (input.scheme) {
    case 'standard-webhooks': {
      const id = header(headers, 'webhook-id');
      const signature = header(headers, 'webhook-signature');
      if (!id || !signature)
        return {
          ok: false,
          reason: 'missing-signature',
          message: 'Standard Webhooks deliveries carry webhook-id, webhook-timestamp and webhook-signature',
        };
      const ts = checkTimestamp(header(headers, 'webhook-timestamp'), now, tolerance);
      if (typeof ts !== 'number') return ts;
      const given = signature
        .split(' ')
        .filter((s) => s.startsWith('v1,') && BASE64.test(s.slice(3)))
        .map((s) => Buffer.from(s.slice(3), 'base64'));
      for (const [i, secret] of secrets.entries()) {
        const expected = hmac(secretKey('standard-webhooks', secret), `${id}.${ts}.`, body);
        if (given.some((g) => sameDigest(expected, g))) return { ok: true, secretIndex: i, timestamp: ts };
      }
      return noMatch;
    }
    case 'stripe': {
      const signature = header(headers, 'stripe-signature');
      if (!signature)
        return { ok: false, reason: 'missing-signature', message: 'Stripe deliveries carry a Stripe-Signature header' };
      const pairs = signature.split(',').map((p) => {
        const eq = p.indexOf('=');
        return eq < 0 ? ['', ''] : [p.slice(0, eq).trim(), p.slice(eq + 1).trim()];
      });
      const ts = checkTimestamp(pairs.find(([k]) => k === 't')?.[1], now, tolerance);
      if (typeof ts !== 'number') return ts;
      const given = pairs.filter(([k, v]) => k === 'v1' && HEX64.test(v!)).map(([, v]) => Buffer.from(v!, 'hex'));
      for (const [i, secret] of secrets.entries()) {
        const expected = hmac(secretKey('stripe', secret), `${ts}.`, body);
        if (given.some((g) => sameDigest(expected, g))) return { ok: true, secretIndex: i, timestamp: ts };
      }
      return noMatch;
    }
    case 'github': {
      const signature = header(headers, 'x-hub-signature-256');
      if (!signature)
        return {
          ok: false,
          reason: 'missing-signature',
          message: 'GitHub deliveries carry an X-Hub-Signature-256 header (set a secret on the GitHub webhook)',
        };
      const hex = signature.startsWith('sha256=') ? signature.slice('sha256='.length) : '';
      if (!HEX64.test(hex)) return noMatch;
      const given = Buffer.from(hex, 'hex');
      for (const [i, secret] of secrets.entries()) {
        if (sameDigest(hmac(secretKey('github', secret), body), given)) return { ok: true, secretIndex: i };
      }
      return noMatch;
    }
  }
}

/**
 * The delivery id a verified delivery is deduplicated by: the trigger's own header when it names
 * one, else the scheme's (Stripe: the event id in the body). Undefined when there is none.
 */
export function deliveryIdOf(
  scheme: WebhookScheme,
  headers: Headers,
  body: Buffer,
  overrideHeader?: string,
): string | undefined {
  const name = overrideHeader?.toLowerCase() ?? DELIVERY_ID_HEADER[scheme];
  if (name) {
    const v = header(headers, name)?.trim();
    return v && v.length <= 256 ? v : undefined;
  }
  // Stripe: the event object's id; the body is only read, never serialised again.
  try {
    const id = (JSON.parse(body.toString('utf8')) as { id?: unknown }).id;
    return typeof id === 'string' && id.length > 0 && id.length <= 256 ? id : undefined;
  } catch {
    return undefined;
  }
}
