'use client';

import { useEffect, useState, type FormEvent } from 'react';
import type { paths } from '../api/client';
import { callGateway } from '../gateway-call';
import { Alert } from '../alert';
import { ApiAuth } from './api-auth';
import { ApiResult, SpecRefusal, type Operations, type Registered, type UpgradeImpact } from './api-result';

// The gateway's API id pattern (api-routes.ts): checked here too so a typo is named before a request.
const API_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
type Accessibility = 'site' | 'internet' | 'both';

interface Answers {
  apiId: string;
  name: string;
  baseUrl: string;
  source: 'upload' | 'url';
  specText: string;
  fileName: string;
  specUrl: string;
  fetchOnSite: boolean;
  accessibility: Accessibility;
  connectorId: string;
  siteApi: string;
}

const EMPTY: Answers = {
  apiId: '',
  name: '',
  baseUrl: '',
  source: 'upload',
  specText: '',
  fileName: '',
  specUrl: '',
  fetchOnSite: false,
  accessibility: 'internet',
  connectorId: '',
  siteApi: '',
};

/** What the form's answers lack, in words, before anything is sent (the gateway checks all again). */
function problemsOf(a: Answers): string[] {
  const out: string[] = [];
  if (!API_ID.test(a.apiId))
    out.push('The API id is lower-case letters, digits and -, at most 63 (for example petstore).');
  if (a.source === 'upload' && !a.specText) out.push('Choose the specification file to upload.');
  if (a.source === 'url' && !/^https?:\/\//.test(a.specUrl)) out.push('The specification URL starts with http(s)://.');
  if (a.accessibility !== 'site' && !/^https?:\/\//.test(a.baseUrl))
    out.push('The base URL (where the cloud calls the API) starts with http(s)://.');
  if (a.accessibility !== 'internet' && (!a.connectorId || !a.siteApi.trim()))
    out.push("A site API needs its connector and its name in that site's policy.json.");
  if (a.fetchOnSite && !a.connectorId) out.push('Fetching the specification on the site needs its connector.');
  return out;
}

type Body = NonNullable<
  paths['/v1/tenants/{tenantId}/apis/{apiId}/versions']['post']['requestBody']
>['content']['application/json'];

function bodyOf(a: Answers): Body {
  return {
    ...(a.name.trim() ? { name: a.name.trim() } : {}),
    accessibility: a.accessibility,
    ...(a.accessibility !== 'internet' ? { site: { connectorId: a.connectorId, api: a.siteApi.trim() } } : {}),
    ...(a.accessibility !== 'site' ? { internet: { baseUrl: a.baseUrl.trim() } } : {}),
    spec:
      a.source === 'upload'
        ? { text: a.specText }
        : { url: a.specUrl.trim(), ...(a.fetchOnSite ? { connectorId: a.connectorId } : {}) },
  };
}

/**
 * "Add custom API aggregator": name, base URL, specification by upload or URL, accessibility; the
 * gateway validates the document (every problem by JSON pointer), lists its operations and, for a new
 * version of a known API, what broke and which definitions it affects. Registering the same id
 * again is how an API is updated.
 */
export function CustomApiForm({ tenantId }: { tenantId: string }) {
  const [answers, setAnswers] = useState<Answers>(EMPTY);
  const [connectors, setConnectors] = useState<{ id: string; name: string }[]>([]);
  const [error, setError] = useState('');
  const [refusal, setRefusal] = useState<{ message: string; body: unknown } | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ registered: Registered; operations?: Operations; impact?: UpgradeImpact }>();

  useEffect(() => {
    void callGateway((c) => c.GET('/v1/tenants/{tenantId}/connectors', { params: { path: { tenantId } } })).then(
      (out) => out.ok && setConnectors(out.data),
    );
  }, [tenantId]);

  const set = <K extends keyof Answers>(field: K, value: Answers[K]) => setAnswers((a) => ({ ...a, [field]: value }));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setRefusal(undefined);
    const problems = problemsOf(answers);
    if (problems.length) return setError(problems.join(' '));
    setError('');
    setBusy(true);
    try {
      const apiId = answers.apiId;
      const out = await callGateway((c) =>
        c.POST('/v1/tenants/{tenantId}/apis/{apiId}/versions', {
          params: { path: { tenantId, apiId } },
          body: bodyOf(answers),
        }),
      );
      if (!out.ok) {
        setResult(undefined);
        return setRefusal({ message: out.message, body: out.body });
      }
      const path = { tenantId, apiId, version: out.data.version };
      const [ops, impact] = await Promise.all([
        callGateway((c) =>
          c.GET('/v1/tenants/{tenantId}/apis/{apiId}/versions/{version}/operations', { params: { path } }),
        ),
        out.data.changesFromPrevious
          ? callGateway((c) =>
              c.GET('/v1/tenants/{tenantId}/apis/{apiId}/versions/{version}/upgrade-impact', { params: { path } }),
            )
          : undefined,
      ]);
      setResult({
        registered: out.data,
        operations: ops.ok ? ops.data : undefined,
        impact: impact?.ok ? impact.data : undefined,
      });
      if (!ops.ok) setError(`Registered, but its operations could not be read: ${ops.message}`);
    } finally {
      setBusy(false);
    }
  };

  const siteNeeded = answers.accessibility !== 'internet';
  return (
    <>
      <form onSubmit={(e) => void submit(e)} noValidate aria-label="Add custom API aggregator">
        <label>
          API id
          <span className="hint">Register the same id again to publish a new version.</span>
          <input name="apiId" value={answers.apiId} onChange={(e) => set('apiId', e.target.value.trim())} required />
        </label>
        <label>
          Name
          <input name="apiName" value={answers.name} onChange={(e) => set('name', e.target.value)} />
        </label>
        <fieldset>
          <legend>Accessibility</legend>
          {(['site', 'internet', 'both'] as const).map((a) => (
            <label key={a} className="inline">
              <input
                type="radio"
                name="accessibility"
                value={a}
                checked={answers.accessibility === a}
                onChange={() => set('accessibility', a)}
              />
              {a === 'site' ? 'Site network only' : a === 'internet' ? 'Internet only' : 'Both'}
            </label>
          ))}
        </fieldset>
        {answers.accessibility !== 'site' && (
          <label>
            Base URL
            <span className="hint">Where the cloud calls the API.</span>
            <input name="baseUrl" type="url" value={answers.baseUrl} onChange={(e) => set('baseUrl', e.target.value)} />
          </label>
        )}
        {(siteNeeded || answers.fetchOnSite) && (
          <label>
            Site connector
            <select value={answers.connectorId} onChange={(e) => set('connectorId', e.target.value)}>
              <option value="">Choose a connector</option>
              {connectors.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                </option>
              ))}
            </select>
          </label>
        )}
        {siteNeeded && (
          <label>
            API name in the site&apos;s policy.json
            <span className="hint">The site maps it to the base URL and credentials on its network.</span>
            <input name="siteApi" value={answers.siteApi} onChange={(e) => set('siteApi', e.target.value)} />
          </label>
        )}
        <fieldset>
          <legend>Specification (OpenAPI 3.x or Swagger 2.0, JSON or YAML)</legend>
          <label className="inline">
            <input
              type="radio"
              name="source"
              checked={answers.source === 'upload'}
              onChange={() => set('source', 'upload')}
            />
            Upload a file
          </label>
          <label className="inline">
            <input
              type="radio"
              name="source"
              checked={answers.source === 'url'}
              onChange={() => set('source', 'url')}
            />
            From a URL
          </label>
          {answers.source === 'upload' ? (
            <label>
              Specification file
              <input
                name="specFile"
                type="file"
                accept=".json,.yaml,.yml,application/json,application/yaml"
                onChange={(e) => {
                  const file = e.target.files?.[0];
                  if (!file) return;
                  void file.text().then((text) => setAnswers((a) => ({ ...a, specText: text, fileName: file.name })));
                }}
              />
            </label>
          ) : (
            <>
              <label>
                Specification URL
                <input
                  name="specUrl"
                  type="url"
                  value={answers.specUrl}
                  onChange={(e) => set('specUrl', e.target.value)}
                />
              </label>
              <label className="inline">
                <input
                  type="checkbox"
                  checked={answers.fetchOnSite}
                  onChange={(e) => set('fetchOnSite', e.target.checked)}
                />
                The URL is on the site network (its agent fetches it)
              </label>
            </>
          )}
        </fieldset>
        <Alert message={error} />
        <button type="submit" disabled={busy}>
          {busy ? 'Validating…' : 'Validate and register'}
        </button>
      </form>
      {refusal && <SpecRefusal message={refusal.message} body={refusal.body} />}
      {result && (
        <>
          <ApiResult {...result} />
          {result.operations && (
            <ApiAuth
              tenantId={tenantId}
              apiId={result.registered.apiId}
              schemes={result.operations.securitySchemes}
              accessibility={result.registered.accessibility}
            />
          )}
        </>
      )}
    </>
  );
}
