import {
  generateAgentKeyPair,
  proofMessage,
  ProofPurpose,
  publicKeyOf,
  signProof,
  verifyProof,
  type ProofInput,
} from '../src/agent-proof';

const input: ProofInput = {
  purpose: ProofPurpose.connect,
  audience: 'gw.example.com:443',
  tenantId: 'acme',
  connectorId: 'c-1',
  challengeId: 'challenge-0000000001',
  nonce: 'n'.repeat(43),
};

describe('agent key-pair proofs', () => {
  const pair = generateAgentKeyPair();

  it('verifies a signature over exactly the signed fields, with the public half of the key', () => {
    expect(publicKeyOf(pair.privateKeyPem)).toBe(pair.publicKey);
    const signature = signProof(pair.privateKeyPem, input);
    expect(verifyProof(pair.publicKey, signature, input)).toBe(true);
    expect(verifyProof(pair.publicKey, signature, { ...input, audience: 'GW.example.com:443' })).toBe(true);
  });

  it.each<[string, Partial<ProofInput>]>([
    ['another purpose', { purpose: ProofPurpose.enrol }],
    ['another gateway', { audience: 'evil.example.com' }],
    ['another tenant', { tenantId: 'other' }],
    ['another connector', { connectorId: 'c-2' }],
    ['another challenge', { challengeId: 'challenge-0000000002' }],
    ['another nonce', { nonce: 'm'.repeat(43) }],
    ['a public key it did not sign', { publicKey: generateAgentKeyPair().publicKey }],
  ])('refuses the signature for %s', (_what, change) => {
    const signature = signProof(pair.privateKeyPem, input);
    expect(verifyProof(pair.publicKey, signature, { ...input, ...change })).toBe(false);
  });

  it('refuses another key pair, and garbage keys or signatures without throwing', () => {
    const signature = signProof(pair.privateKeyPem, input);
    expect(verifyProof(generateAgentKeyPair().publicKey, signature, input)).toBe(false);
    expect(verifyProof('not-a-key', signature, input)).toBe(false);
    expect(verifyProof(pair.publicKey, 'AAAA', input)).toBe(false);
  });

  it('keeps fields apart: no two field lists sign the same bytes', () => {
    expect(proofMessage({ ...input, tenantId: 'ab', connectorId: 'c' })).not.toEqual(
      proofMessage({ ...input, tenantId: 'a', connectorId: 'bc' }),
    );
    expect(() => proofMessage({ ...input, connectorId: 'a\0b' })).toThrow(/NUL/);
  });
});
