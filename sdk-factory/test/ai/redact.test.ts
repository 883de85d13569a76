import { htmlToText, redactSecrets } from '../../src/ai';

describe('redactSecrets', () => {
  it.each([
    ['curl -H "Authorization: Bearer abcDEF123456789xyz" …', 'abcDEF123456789xyz'],
    ['?api_key=9f8e7d6c5b4a&limit=2', '9f8e7d6c5b4a'],
    ['{"client_secret": "s3cr3t-value-42"}', 's3cr3t-value-42'],
    ['X-Api-Key: live-key-0001', 'live-key-0001'],
    ['https://admin:hunter2@erp.local/api', 'hunter2'],
    ['AKIAIOSFODNN7EXAMPLE', 'AKIAIOSFODNN7EXAMPLE'],
    ['ghp_0123456789abcdefghijABCDEFGHIJ012345', 'ghp_0123456789abcdefghijABCDEFGHIJ012345'],
    ['sk_live_4eC39HqLyjWDarjtT1zdp7dc', 'sk_live_4eC39HqLyjWDarjtT1zdp7dc'],
    ['token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w', 'eyJhbGciOiJIUzI1NiJ9'],
    ['-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----', 'MIIEow'],
  ])('takes the secret out of %j', (text, secret) => {
    const out = redactSecrets(text);
    expect(out.text).not.toContain(secret);
    expect(out.text).toContain('REDACTED');
    expect(out.redactions.length).toBeGreaterThan(0);
  });

  // Credentials as API documentation really shows them, in forms the first rules missed.
  it.each([
    ['curl -u admin:S3cretPassw0rd https://erp.example.com/api', 'S3cretPassw0rd', 'curl -u admin:REDACTED'],
    ["curl --user 'admin:S3cretPassw0rd' https://erp", 'S3cretPassw0rd', "curl --user 'admin:REDACTED"],
    ['Authorization: SSWS 00QCjAl4MlV-WPXM3NmcDg', '00QCjAl4MlV-WPXM3NmcDg', 'Authorization: SSWS REDACTED'],
    ['-H "Authorization: 7f3c9a1b2d4e5f60a1b2"', '7f3c9a1b2d4e5f60a1b2', 'Authorization: REDACTED'],
    ['Cookie: sessionid=8f14e45fceea167a; csrftoken=c4ca4238a0b9', '8f14e45fceea167a', 'Cookie: REDACTED'],
    ['GET /geocode?key=AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY', 'AIzaSyD-9tSrke72PouQMnMX', '?key=REDACTED'],
  ])('takes the secret out of %j too', (text, secret, shape) => {
    const out = redactSecrets(text);
    expect(out.text).not.toContain(secret);
    expect(out.text).toContain(shape);
  });

  it('keeps the shape of the call and ordinary text', () => {
    const text = 'GET /api/customers/active?limit=100 returns a page; the key goes in X-Api-Key.';
    expect(redactSecrets(text)).toEqual({ text, redactions: [] });
    expect(redactSecrets('Authorization: Bearer tok_1234567890').text).toBe('Authorization: Bearer REDACTED');
  });
});

describe('htmlToText', () => {
  it('drops scripts, styles and comments, decodes entities, keeps structure', () => {
    expect(
      htmlToText(
        '<h2>Orders</h2><p>GET /orders &lt;id&gt; &#8212; &#x41;</p><script>x()</script><!-- a --><ul><li>one</li></ul>',
      ),
    ).toBe('Orders\nGET /orders <id> — A\n\n- one');
  });
});
