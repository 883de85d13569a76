// A real OpenID Connect provider (oidc-provider from the npm registry) for the auth tests, run as its
// own process because the package is ESM-only. It listens on a random loopback port and prints one
// JSON line with its issuer. Clients come from argv[2] (JSON); dev interactions do login and consent
// through real HTTP forms, so the tests drive the authorization code flow end to end.
import { createServer } from 'node:http';
import Provider from 'oidc-provider';

const clients = JSON.parse(process.argv[2] ?? '[]');
const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients,
    scopes: ['openid', 'offline_access', 'read', 'write', 'email', 'profile'],
    // Single sign-on tests read the email from the ID token of the code flow.
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    conformIdTokenClaims: false,
    features: {
      devInteractions: { enabled: true },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
    },
    pkce: { required: () => true },
    ttl: {
      AccessToken: 3600,
      ClientCredentials: 3600,
      AuthorizationCode: 60,
      RefreshToken: 86400,
      Grant: 86400,
      Interaction: 600,
      Session: 600,
    },
    async findAccount(_ctx, id) {
      return {
        accountId: id,
        async claims() {
          // A login that is an address is a person with that verified address (single sign-on tests).
          return id.includes('@') ? { sub: id, email: id, email_verified: true, name: id } : { sub: id };
        },
      };
    },
  });
  provider.proxy = false;
  server.on('request', provider.callback());
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
