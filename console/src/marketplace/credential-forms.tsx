'use client';

import { useState, type FormEvent, type ReactNode } from 'react';
import { Alert } from '../alert';
import { useCredentialSave, type CredentialView, type OwnerCredential } from './credential-save';

export interface SchemeProps {
  tenantId: string;
  apiId: string;
  scheme: string;
}

const WRITE_ONLY = 'Stored encrypted by the gateway; never shown again.';

/**
 * One scheme's form: the fields, a Save button, the gateway's refusal, and what was stored (never a
 * secret). `collect` answers the credential to store or a sentence naming what is missing; after a
 * successful save the fields are cleared through `clear`.
 */
function CredentialForm({
  props,
  title,
  collect,
  clear,
  children,
  shown,
}: {
  props: SchemeProps;
  title: string;
  collect(): OwnerCredential | string;
  clear(): void;
  children: ReactNode;
  shown?: (view: CredentialView) => ReactNode;
}) {
  const { name, error, setError, saved, busy, save } = useCredentialSave(props.tenantId, props.apiId, props.scheme);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const credential = collect();
    if (typeof credential === 'string') return setError(credential);
    if (await save(credential)) clear();
  };
  return (
    <form onSubmit={(e) => void submit(e)} noValidate>
      <fieldset>
        <legend>
          {props.scheme}: {title}
        </legend>
        <p className="hint">{WRITE_ONLY}</p>
        {children}
        <Alert message={error} />
        <button type="submit" disabled={busy}>
          Save {props.scheme}
        </button>
        {saved && (
          <div role="status">
            <p>
              Saved as {name} (version {saved.version}).
            </p>
            {shown?.(saved)}
          </div>
        )}
      </fieldset>
    </form>
  );
}

function Secret({ label, value, onChange }: { label: string; value: string; onChange(v: string): void }) {
  return (
    <label>
      {label}
      <input type="password" autoComplete="off" value={value} onChange={(e) => onChange(e.target.value)} />
    </label>
  );
}

/** An API key (in a header, query or cookie) or a bearer token: one secret. */
export function SingleSecretForm({
  kind,
  where,
  ...props
}: SchemeProps & { kind: 'apiKey' | 'bearer'; where?: string }) {
  const [secret, setSecret] = useState('');
  const label = kind === 'apiKey' ? `API key (in ${where})` : 'Bearer token';
  return (
    <CredentialForm
      props={props}
      title={kind === 'apiKey' ? `API key in ${where}` : 'bearer token'}
      collect={() => {
        const value = secret.trim();
        if (!value) return `Paste the ${label.toLowerCase()} for ${props.scheme} first.`;
        return kind === 'apiKey' ? { kind, value } : { kind, token: value };
      }}
      clear={() => setSecret('')}
    >
      <Secret label={label} value={secret} onChange={setSecret} />
    </CredentialForm>
  );
}

/** HTTP basic: a username (shown back) and a password (never). */
export function BasicForm(props: SchemeProps) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  return (
    <CredentialForm
      props={props}
      title="HTTP basic"
      collect={() => {
        if (!username.trim() || !password) return `Give ${props.scheme}'s username and password.`;
        if (username.includes(':')) return 'A basic username cannot contain a colon.';
        return { kind: 'basic', username: username.trim(), password };
      }}
      clear={() => {
        setUsername('');
        setPassword('');
      }}
      shown={(v) => <p>Username: {v.fields.username}</p>}
    >
      <label>
        Username
        <input autoComplete="off" value={username} onChange={(e) => setUsername(e.target.value)} />
      </label>
      <Secret label="Password" value={password} onChange={setPassword} />
    </CredentialForm>
  );
}

/**
 * The fields of an OAuth 2.0 client (id, secret, token URL). Shared by the client credentials form
 * and the authorization code one; `defaultTokenUrl` is the spec's, sent only when changed.
 */
export function useOAuthClientFields(scheme: string, defaultTokenUrl = '') {
  const [clientId, setClientId] = useState('');
  const [clientSecret, setClientSecret] = useState('');
  const [tokenUrl, setTokenUrl] = useState(defaultTokenUrl);
  const collect = (): OwnerCredential | string => {
    if (!clientId.trim()) return `Give ${scheme}'s client ID (from the provider's client registration).`;
    const url = tokenUrl.trim();
    if (url && !/^https?:\/\//.test(url)) return 'The token URL starts with http(s)://.';
    return {
      kind: 'oauth2-client',
      clientId: clientId.trim(),
      ...(clientSecret ? { clientSecret } : { tokenEndpointAuth: 'none' as const }),
      ...(url && url !== defaultTokenUrl ? { tokenUrl: url } : {}),
    };
  };
  const clear = () => {
    setClientId('');
    setClientSecret('');
  };
  const fields = (
    <>
      <label>
        Client ID
        <input autoComplete="off" value={clientId} onChange={(e) => setClientId(e.target.value)} />
      </label>
      <Secret label="Client secret" value={clientSecret} onChange={setClientSecret} />
      <label>
        Token URL
        <span className="hint">
          {defaultTokenUrl
            ? 'From the specification; change it for your own authorization server.'
            : "Leave empty to use the provider's discovery document."}
        </span>
        <input type="url" value={tokenUrl} onChange={(e) => setTokenUrl(e.target.value)} />
      </label>
    </>
  );
  return { collect, clear, fields };
}

/** The scopes a scheme declares, as a read-only list (the operations' security requirements choose). */
export function ScopeList({ scopes }: { scopes: string[] }) {
  if (scopes.length === 0) return <p className="hint">The scheme declares no scopes.</p>;
  return (
    <p className="hint">
      Scopes it declares: <code>{scopes.join(' ')}</code>
    </p>
  );
}

/** OAuth 2.0 client credentials: the platform fetches and renews tokens itself, no person involved. */
export function ClientCredentialsForm({
  tokenUrl,
  scopes,
  ...props
}: SchemeProps & { tokenUrl: string; scopes: string[] }) {
  const client = useOAuthClientFields(props.scheme, tokenUrl);
  return (
    <CredentialForm
      props={props}
      title="OAuth 2.0 client credentials"
      collect={client.collect}
      clear={client.clear}
      shown={(v) => <p>Client {v.fields.clientId}: the platform requests its tokens when a step calls the API.</p>}
    >
      {client.fields}
      <ScopeList scopes={scopes} />
    </CredentialForm>
  );
}

/** Reads a chosen file's text into a field (a PEM file: a few kilobytes). */
function PemField({
  label,
  secret,
  value,
  onChange,
}: {
  label: string;
  secret: boolean;
  value: string;
  onChange(v: string): void;
}) {
  return (
    <div className="field">
      <label>
        {label} (paste)
        <textarea
          rows={4}
          spellCheck={false}
          autoComplete="off"
          className={secret ? 'secret' : undefined}
          value={value}
          onChange={(e) => onChange(e.target.value)}
        />
      </label>
      <label>
        {label} file
        <input
          type="file"
          accept=".pem,.crt,.cer,.key,text/plain"
          onChange={(e) => {
            const file = e.target.files?.[0];
            if (file) void file.text().then(onChange);
            e.target.value = '';
          }}
        />
      </label>
    </div>
  );
}

/** A client certificate and its key for a mutualTLS scheme; the answer names the certificate. */
export function MtlsForm(props: SchemeProps) {
  const [certificate, setCertificate] = useState('');
  const [privateKey, setPrivateKey] = useState('');
  const [passphrase, setPassphrase] = useState('');
  return (
    <CredentialForm
      props={props}
      title="client certificate (mutual TLS)"
      collect={() => {
        if (!certificate.includes('-----BEGIN CERTIFICATE-----'))
          return 'The certificate is a PEM file starting with -----BEGIN CERTIFICATE-----.';
        if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(privateKey))
          return 'The private key is a PEM file starting with -----BEGIN PRIVATE KEY----- (or RSA/EC PRIVATE KEY).';
        return { kind: 'mtls', certificate, privateKey, ...(passphrase ? { passphrase } : {}) };
      }}
      clear={() => {
        setCertificate('');
        setPrivateKey('');
        setPassphrase('');
      }}
      shown={(v) => (
        <dl data-testid={`certificate-${props.scheme}`}>
          <dt>Subject</dt>
          <dd>{v.fields.subject}</dd>
          <dt>Issuer</dt>
          <dd>{v.fields.issuer}</dd>
          <dt>Valid to</dt>
          <dd>{v.fields.validTo}</dd>
          <dt>Fingerprint (SHA-256)</dt>
          <dd className="mono">{v.fields.fingerprint256}</dd>
        </dl>
      )}
    >
      <PemField label="Certificate" secret={false} value={certificate} onChange={setCertificate} />
      <PemField label="Private key" secret value={privateKey} onChange={setPrivateKey} />
      <Secret label="Key passphrase (if any)" value={passphrase} onChange={setPassphrase} />
    </CredentialForm>
  );
}
