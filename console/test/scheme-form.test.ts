import { schemeForm, tokenStatusText } from '../src/marketplace/scheme-form';

describe('the form a security scheme asks for (the marketplace registration)', () => {
  it.each([
    [
      { type: 'apiKey', in: 'header', name: 'X-Key' },
      { form: 'apiKey', where: 'header X-Key' },
    ],
    [{ type: 'http', scheme: 'Bearer' }, { form: 'bearer' }],
    [{ type: 'http', scheme: 'basic' }, { form: 'basic' }],
    [
      { type: 'oauth2', flows: { clientCredentials: { tokenUrl: 'https://idp/token', scopes: { read: '' } } } },
      { form: 'client-credentials', tokenUrl: 'https://idp/token', scopes: ['read'] },
    ],
    [
      {
        type: 'oauth2',
        flows: {
          clientCredentials: { tokenUrl: 'https://idp/token', scopes: {} },
          authorizationCode: { authorizationUrl: 'https://idp/auth', tokenUrl: 'https://idp/token', scopes: { a: '' } },
        },
      },
      { form: 'authorization-code', tokenUrl: 'https://idp/token', scopes: ['a'], openIdConnect: false },
    ],
    [
      { type: 'openIdConnect', openIdConnectUrl: 'https://idp/.well-known/openid-configuration' },
      { form: 'authorization-code', tokenUrl: '', scopes: ['openid'], openIdConnect: true },
    ],
    [{ type: 'mutualTLS' }, { form: 'mtls' }],
    [
      { type: 'http', scheme: 'digest' },
      { form: 'unsupported', what: 'http digest' },
    ],
    [
      { type: 'oauth2', flows: { implicit: { authorizationUrl: 'x', scopes: {} } } },
      expect.objectContaining({ form: 'unsupported' }),
    ],
  ])('%j → %j', (scheme, form) => {
    expect(schemeForm(scheme)).toEqual(form);
  });

  it("says an OAuth client's token status in words", () => {
    expect(
      tokenStatusText({ oauth: { status: 'active', expiresAt: '2026-12-04T05:10:42.000Z', refreshable: true } }),
    ).toBe('Token stored; expires 2026-12-04 05:10 UTC, refreshed by the platform.');
    expect(tokenStatusText({ oauth: { status: 'not-authorized', refreshable: false } })).toMatch(/^Not connected yet/);
    expect(
      tokenStatusText({
        oauth: { status: 'refresh-failed', refreshable: false },
        failure: { message: 'the code exchange of crm.user was refused (invalid_client)' },
      }),
    ).toBe('Refused: the code exchange of crm.user was refused (invalid_client).');
  });
});
