import { generateKeyPairSync, sign } from 'node:crypto';
import { expectedSha256, trustedReleaseKeys, verifyReleaseSignature } from '../src/release/release-keys';

const pair = () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
};

describe('release signatures', () => {
  const sums = Buffer.from(
    `${'a'.repeat(64)}  mini-connector-linux-x64\n${'b'.repeat(64)}  mini-connector-win-x64.exe\n`,
  );

  it('accepts a signature by a trusted key and names the key', () => {
    const release = pair();
    const other = pair();
    const signature = sign(null, sums, release.privateKey);
    expect(verifyReleaseSignature(sums, signature, [other.publicKeyPem, release.publicKeyPem])).toBe(
      release.publicKeyPem,
    );
  });

  it('refuses a signature by an untrusted key, and a changed sums file', () => {
    const release = pair();
    const stranger = pair();
    expect(verifyReleaseSignature(sums, sign(null, sums, stranger.privateKey), [release.publicKeyPem])).toBeUndefined();
    const changed = Buffer.from(sums.toString().replace('a', 'c'));
    expect(
      verifyReleaseSignature(changed, sign(null, sums, release.privateKey), [release.publicKeyPem]),
    ).toBeUndefined();
  });

  it('reads the expected sum of a file from SHA256SUMS, and nothing for a file it does not list', () => {
    expect(expectedSha256(sums.toString(), 'mini-connector-win-x64.exe')).toBe('b'.repeat(64));
    expect(expectedSha256(sums.toString(), 'mini-connector')).toBeUndefined();
  });

  it('trusts no development key in a build from the sources', () => {
    expect(trustedReleaseKeys()).toEqual([]);
  });
});
