import { accessOf } from '../src/services/api-service';

/** What a registration's accessibility must say (issue 11): each kind what it needs, and nothing it does not. */
describe('accessOf: the accessibility a registration gives', () => {
  const site = { connectorId: '5b0f6c1e-2f7a-4b8e-9d55-0a4c0c3e1f11', api: 'erp' };
  const internet = { baseUrl: 'https://erp.example.com' };

  it('answers each complete accessibility, and none when none is given', () => {
    expect(accessOf({ accessibility: 'site', site })).toEqual({ accessibility: 'site', site });
    expect(accessOf({ accessibility: 'internet', internet })).toEqual({ accessibility: 'internet', internet });
    expect(accessOf({ accessibility: 'both', site, internet })).toEqual({ accessibility: 'both', site, internet });
    expect(accessOf({})).toBeUndefined();
  });

  it.each([
    [{ site }, /give accessibility too/],
    [{ accessibility: 'site' as const }, /accessibility site needs site: \{ connectorId, api \}/],
    [{ accessibility: 'both' as const, site }, /accessibility both needs internet: \{ baseUrl \}/],
    [{ accessibility: 'internet' as const }, /accessibility internet needs internet/],
    [{ accessibility: 'internet' as const, internet, site }, /internet takes no site: say both/],
    [{ accessibility: 'site' as const, site, internet }, /site takes no internet address: say both/],
    [{ accessibility: 'internet' as const, internet: { baseUrl: 'ftp://erp.example.com' } }, /http or https URL/],
    [{ accessibility: 'internet' as const, internet: { baseUrl: 'https://erp.example.com/\u0000' } }, /control/],
    [{ accessibility: 'site' as const, site: { ...site, api: 'erp\n' } }, /no control characters/],
  ])('refuses %j with a message saying what to give', (input, message) => {
    expect(() => accessOf(input)).toThrow(message);
  });
});
