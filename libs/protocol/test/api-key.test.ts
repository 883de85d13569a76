import { checkApiKey, generateApiKey, hashApiKey, hashesEqual, describeApiKey } from '@vansales/protocol';

describe('agent API keys', () => {
  it('generates vmc_<tenant>_<random>_<checksum> keys that pass their own check', () => {
    const key = generateApiKey('acme-corp');
    expect(key).toMatch(/^vmc_acme-corp_[0-9A-Za-z]{40}_[0-9A-Za-z]{6}$/);
    const check = checkApiKey(key);
    expect(check).toEqual({ ok: true, key: { tenantId: 'acme-corp', lookup: key.split('_')[2]!.slice(0, 12) } });
  });

  it('carries at least 160 bits of secret beyond the lookup id', () => {
    // 28 secret characters of base62.
    expect(28 * Math.log2(62)).toBeGreaterThanOrEqual(160);
    const keys = new Set(Array.from({ length: 2000 }, () => generateApiKey('t1')));
    expect(keys.size).toBe(2000);
  });

  it('refuses every single-character typo offline by checksum', () => {
    const key = generateApiKey('acme');
    const random = key.split('_')[2]!;
    const start = key.indexOf(random);
    let refused = 0;
    for (let i = 0; i < random.length; i++) {
      const c = key[start + i]!;
      const typo = key.slice(0, start + i) + (c === 'a' ? 'b' : 'a') + key.slice(start + i + 1);
      const check = checkApiKey(typo);
      if (!check.ok && /checksum/.test(check.reason)) refused++;
    }
    expect(refused).toBe(random.length);
  });

  it('refuses malformed and truncated keys without echoing them', () => {
    const key = generateApiKey('acme');
    for (const bad of ['', 'vmc_acme', key.slice(0, -1), key.replace('vmc_', 'vmx_'), `${key}x`]) {
      const check = checkApiKey(bad);
      expect(check.ok).toBe(false);
      if (!check.ok && bad) expect(check.reason).not.toContain(bad);
    }
  });

  it('hashes keys for storage and compares hashes', () => {
    const key = generateApiKey('acme');
    expect(hashesEqual(hashApiKey(key), hashApiKey(key))).toBe(true);
    expect(hashesEqual(hashApiKey(key), hashApiKey(generateApiKey('acme')))).toBe(false);
    const check = checkApiKey(key);
    expect(check.ok && describeApiKey(check.key)).toBe(`vmc_acme_${key.split('_')[2]!.slice(0, 12)}…`);
  });
});
