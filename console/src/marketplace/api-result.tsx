'use client';

import type { paths } from '../api/client';
import { ColumnHeads } from '../column-heads';

type Json<P extends keyof paths, M extends 'get' | 'post'> =
  paths[P] extends Record<M, { responses: { 200: { content: { 'application/json': infer T } } } }> ? T : never;
export type Registered = Json<'/v1/tenants/{tenantId}/apis/{apiId}/versions', 'post'>;
export type Operations = Json<'/v1/tenants/{tenantId}/apis/{apiId}/versions/{version}/operations', 'get'>;
export type UpgradeImpact = Json<'/v1/tenants/{tenantId}/apis/{apiId}/versions/{version}/upgrade-impact', 'get'>;

interface Problem {
  pointer: string;
  code: string;
  message: string;
}

/** The problems of a refused specification, from the gateway's error body (`specError`, `problems`). */
export function specProblems(body: unknown): { specError?: string; problems: Problem[] } {
  const error = (body as { error?: { specError?: unknown; problems?: unknown } } | undefined)?.error;
  const problems = Array.isArray(error?.problems) ? (error.problems as Problem[]) : [];
  return { specError: typeof error?.specError === 'string' ? error.specError : undefined, problems };
}

/** A refused specification: the sentence, then every problem where it is in the document. */
export function SpecRefusal({ message, body }: { message: string; body: unknown }) {
  const { specError, problems } = specProblems(body);
  return (
    <div role="alert" className="error" data-testid="spec-error">
      <p>
        The specification was not registered{specError ? ` (${specError})` : ''}: {message}
      </p>
      {problems.length > 0 && (
        <ul aria-label="Problems in the specification">
          {problems.slice(0, 50).map((p) => (
            <li key={`${p.pointer}-${p.code}`}>
              <code>{p.pointer || '/'}</code>: {p.message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** What registering answered: the version, its operations and, on an update, what broke and who it affects. */
export function ApiResult({
  registered,
  operations,
  impact,
}: {
  registered: Registered;
  operations?: Operations;
  impact?: UpgradeImpact;
}) {
  const changes = registered.changesFromPrevious;
  return (
    <section aria-labelledby="api-result-title" data-testid="api-result">
      <h3 id="api-result-title">
        {registered.apiId} version {registered.version} {registered.created ? 'registered' : '(already registered)'}
      </h3>
      <p>
        {registered.sourceFormat}, API version {registered.apiVersion}: {registered.operationCount} operations.
        Accessibility: {registered.accessibility ?? 'not set'}.
      </p>
      {registered.warnings.length > 0 && (
        <details>
          <summary>{registered.warnings.length} warnings</summary>
          <ul>
            {registered.warnings.map((w) => (
              <li key={`${w.pointer}-${w.code}`}>
                <code>{w.pointer}</code>: {w.message}
              </li>
            ))}
          </ul>
        </details>
      )}
      {changes && (
        <div data-testid="api-changes">
          <h4>
            Changes from version {changes.from}: {changes.breaking ? 'BREAKING' : 'nothing breaking'}
          </h4>
          <ul>
            {changes.changes.map((c) => (
              <li key={c.id + (c.operationKey ?? '')}>
                <strong>{c.level}</strong> {c.method ? `${c.method.toUpperCase()} ${c.path ?? ''}` : ''}: {c.text}
              </li>
            ))}
          </ul>
          {impact && (
            <p>
              {impact.definitions.length === 0
                ? 'No definition calls an operation of this API yet.'
                : impact.definitions
                    .map(
                      (d) =>
                        `${d.definitionId} v${d.version}: ${d.mustChange.length} steps must change, ${d.canUpgrade.length} can be re-pinned`,
                    )
                    .join('; ')}
            </p>
          )}
        </div>
      )}
      {operations && (
        <table data-testid="api-operations">
          <caption className="hint">Operations found in version {operations.version}</caption>
          <ColumnHeads names={['Method', 'Path', 'Operation']} />
          <tbody>
            {operations.operations.map((o) => (
              <tr key={o.key}>
                <td data-label="Method">{o.method.toUpperCase()}</td>
                <td data-label="Path">
                  <code>{o.path}</code>
                </td>
                <td data-label="Operation">
                  {o.key}
                  {o.summary ? ` (${o.summary})` : ''}
                  {o.deprecated ? ' deprecated' : ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
