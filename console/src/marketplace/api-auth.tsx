'use client';

import { AuthorizationCodeForm } from './oauth-connect';
import { BasicForm, ClientCredentialsForm, MtlsForm, SingleSecretForm, type SchemeProps } from './credential-forms';
import { schemeForm } from './scheme-form';

/** The form a security scheme's type asks for (scheme-form.ts decides which). */
function SchemeAuth({ raw, ...props }: SchemeProps & { raw: unknown }) {
  const form = schemeForm(raw);
  switch (form.form) {
    case 'apiKey':
      return <SingleSecretForm kind="apiKey" where={form.where} {...props} />;
    case 'bearer':
      return <SingleSecretForm kind="bearer" {...props} />;
    case 'basic':
      return <BasicForm {...props} />;
    case 'client-credentials':
      return <ClientCredentialsForm tokenUrl={form.tokenUrl} scopes={form.scopes} {...props} />;
    case 'authorization-code':
      return (
        <AuthorizationCodeForm
          tokenUrl={form.tokenUrl}
          scopes={form.scopes}
          openIdConnect={form.openIdConnect}
          {...props}
        />
      );
    case 'mtls':
      return <MtlsForm {...props} />;
    default:
      return (
        <p>
          {props.scheme} ({form.what}): the platform cannot authenticate with this kind of scheme.
        </p>
      );
  }
}

/**
 * Authentication of an API the cloud calls: per security scheme, the form its type asks for (API
 * key, bearer, basic, OAuth 2.0 client credentials, authorization code with Connect, client
 * certificate), stored by the gateway as the credential `<apiId>.<scheme>`. Secrets are write-only:
 * never read back, cleared from the form once saved. A site-only API's credentials stay in the
 * site's policy.json, so none is asked for here.
 */
export function ApiAuth({
  tenantId,
  apiId,
  schemes,
  accessibility,
}: {
  tenantId: string;
  apiId: string;
  schemes: Record<string, unknown>;
  accessibility?: string;
}) {
  const names = Object.keys(schemes);
  if (names.length === 0) return <p>This API declares no authentication.</p>;
  if (accessibility === 'site')
    return (
      <p>
        Authentication ({names.join(', ')}) is configured on the site, in its policy.json: the credentials never leave
        the site network.
      </p>
    );
  return (
    <section aria-labelledby="auth-title">
      <h4 id="auth-title">Authentication</h4>
      {names.map((name) => (
        <SchemeAuth key={name} tenantId={tenantId} apiId={apiId} scheme={name} raw={schemes[name]} />
      ))}
    </section>
  );
}
