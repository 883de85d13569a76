import { createPublicKey, verify } from 'node:crypto';

/**
 * The Ed25519 public keys whose signatures make a release of the mini connector (SHA256SUMS.sig over
 * SHA256SUMS, see README "Releases"). The production key is made offline by the release manager
 * (`openssl genpkey -algorithm ed25519`); its public half is added here, and only a build signed by
 * a key listed here is a production release. A development build is signed with a key generated into
 * the builder's cache; that build carries its public key (`__VSC_RELEASE_DEV_KEY__`, set by the
 * release build) and trusts it too, so the same verification runs on a developer's machine.
 */
export const PRODUCTION_RELEASE_KEYS: readonly string[] = [];

declare const __VSC_RELEASE_DEV_KEY__: string | undefined;

/** The keys this build trusts: the production ones, plus the key that signed it when it is a dev build. */
export function trustedReleaseKeys(): string[] {
  const dev = typeof __VSC_RELEASE_DEV_KEY__ === 'string' ? [__VSC_RELEASE_DEV_KEY__] : [];
  return [...PRODUCTION_RELEASE_KEYS, ...dev];
}

/** Whether `signature` is a valid Ed25519 signature of `sums` by one of `keys` (PEM); the key if so. */
export function verifyReleaseSignature(sums: Buffer, signature: Buffer, keys: readonly string[]): string | undefined {
  return keys.find((key) => verify(null, sums, createPublicKey(key), signature));
}

/** The expected SHA-256 of a file in a SHA256SUMS text (shared with the gateway's upload check). */
export { expectedSha256 } from '@vansales/protocol';

/**
 * The keys an update must be signed by (issue 13 §5): the production keys only, unless the site
 * policy allows the development key (`updates.allowDevelopmentKey`), which then counts too, and only
 * in a development build (a production build carries no development key).
 */
export function updateReleaseKeys(allowDevelopmentKey: boolean): string[] {
  return allowDevelopmentKey ? trustedReleaseKeys() : [...PRODUCTION_RELEASE_KEYS];
}
