// A local OpenID Connect provider for Accord's tests: panva's oidc-provider (a certified
// implementation) with its development log-in screen, where any name signs in as that
// account. Configured from the environment by accord/testing/oidc/__init__.py:
//   PORT       the port to listen on (127.0.0.1)
//   CLIENTS    JSON: [{client_id, client_secret, redirect_uris}]
// Each account's email is the log-in name typed (verified), so a test signs in as a person
// by typing their email address.
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const clients = JSON.parse(process.env.CLIENTS || '[]').map((c) => ({
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_post',
  ...c,
}));

const provider = new Provider(issuer, {
  clients,
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['given_name', 'family_name', 'name'] },
  scopes: ['openid', 'email', 'profile'],
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => false },
  cookies: { keys: ['accord-test-only'] },
  async findAccount(ctx, id) {
    const local = id.split('@')[0] || id;
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: id, email_verified: true, given_name: local, family_name: 'Tester', name: `${local} Tester` };
      },
    };
  },
});

provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${issuer}\n`);
});
