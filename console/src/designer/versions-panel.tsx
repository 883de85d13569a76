'use client';

import { memo, useCallback, useEffect, useId, useState } from 'react';
import type { ValidationIssue } from '@vansales/definitions';
import { describeFailure, type GatewayClient, type paths } from '../api/client';
import { Alert } from '../alert';
import { ColumnHeads } from '../column-heads';

type VersionRow =
  paths['/v1/tenants/{tenantId}/definitions/{definitionId}/versions']['get']['responses']['200']['content']['application/json'][number];
type Diff =
  paths['/v1/tenants/{tenantId}/definitions/{definitionId}/diff']['get']['responses']['200']['content']['application/json'];

/** The gateway's 422 names every issue (`error.issues`); the designer shows them on the nodes. */
function issuesOf(body: unknown): ValidationIssue[] {
  const error = body && typeof body === 'object' && 'error' in body ? (body.error as Record<string, unknown>) : {};
  return Array.isArray(error?.issues) ? (error.issues as ValidationIssue[]) : [];
}

/**
 * Save the drawn document as a version, list the versions, compare two side by side, publish one and
 * run the published one. Every call goes through the generated client.
 */
function VersionsPanelView({
  client,
  tenantId,
  definitionId,
  document,
  canSave,
  onOpen,
  onServerIssues,
}: {
  client: GatewayClient | undefined;
  tenantId: string;
  definitionId: string;
  document: Record<string, unknown>;
  canSave: boolean;
  onOpen: (document: unknown, version: number) => void;
  onServerIssues: (issues: ValidationIssue[]) => void;
}) {
  const uid = useId();
  const [versions, setVersions] = useState<VersionRow[]>([]);
  const [message, setMessage] = useState('');
  const [error, setError] = useState('');
  const [from, setFrom] = useState(0);
  const [to, setTo] = useState(0);
  const [diff, setDiff] = useState<{ diff: Diff; left: unknown; right: unknown } | undefined>();
  const path = { tenantId, definitionId };

  /** Reads the versions list again; gives the newest version's number. */
  const refresh = useCallback(async (): Promise<number | undefined> => {
    if (!client || !definitionId) return undefined;
    const { data } = await client.GET('/v1/tenants/{tenantId}/definitions/{definitionId}/versions', {
      params: { path: { tenantId, definitionId } },
    });
    setVersions(data ?? []);
    if (data && data.length > 0) {
      const sorted = data.map((v) => v.version).sort((a, b) => a - b);
      setTo(sorted[sorted.length - 1]!);
      setFrom(sorted[Math.max(0, sorted.length - 2)]!);
      return sorted[sorted.length - 1];
    }
    return undefined;
  }, [client, tenantId, definitionId]);

  useEffect(() => {
    setVersions([]);
    setDiff(undefined);
    setMessage('');
    // Opening a definition that has versions draws its newest one.
    void refresh().then(async (latest) => {
      if (!latest || !client) return;
      const { data } = await client.GET('/v1/tenants/{tenantId}/definitions/{definitionId}/versions/{version}', {
        params: { path: { tenantId, definitionId, version: latest } },
      });
      if (data) {
        onOpen(data.document, latest);
        setMessage(`Opened version ${latest}, the newest.`);
      }
    });
    // Only a change of definition (refresh's identity) opens one; onOpen is the designer's stable load.
  }, [refresh]);

  const report = (status: number, body: unknown, doing: string) => {
    const issues = issuesOf(body);
    onServerIssues(issues);
    setMessage('');
    setError(
      `${doing} failed: ${describeFailure(status, body)}${issues.length ? ' The problems are shown on the steps.' : ''}`,
    );
  };

  const save = async () => {
    if (!client) return;
    setError('');
    const exists = versions.length > 0;
    const result = exists
      ? await client.POST('/v1/tenants/{tenantId}/definitions/{definitionId}/versions', {
          params: { path },
          body: { document },
        })
      : await client.POST('/v1/tenants/{tenantId}/definitions', {
          params: { path: { tenantId } },
          body: { id: definitionId, document },
        });
    if (!result.data) return report(result.response.status, result.error, 'Saving');
    onServerIssues([]);
    const saved = result.data.version.version;
    const created = !('created' in result.data) || result.data.created !== false;
    setMessage(created ? `Saved as version ${saved}.` : `Unchanged: this is version ${saved} already.`);
    await refresh();
  };

  const publish = async (version: number) => {
    if (!client) return;
    setError('');
    const {
      data,
      error: body,
      response,
    } = await client.POST('/v1/tenants/{tenantId}/definitions/{definitionId}/publish', {
      params: { path },
      body: { version },
    });
    if (!data) return report(response.status, body, 'Publishing');
    setMessage(`Version ${version} is published.`);
    await refresh();
  };

  const run = async () => {
    if (!client) return;
    setError('');
    const {
      data,
      error: body,
      response,
    } = await client.POST('/v1/tenants/{tenantId}/definitions/{definitionId}/runs', { params: { path }, body: {} });
    if (!data) return report(response.status, body, 'Starting a run');
    setMessage(`Run ${data.runId} started on version ${data.version}.`);
  };

  const open = async (version: number) => {
    if (!client) return;
    const {
      data,
      error: body,
      response,
    } = await client.GET('/v1/tenants/{tenantId}/definitions/{definitionId}/versions/{version}', {
      params: { path: { ...path, version } },
    });
    if (!data) return report(response.status, body, 'Opening');
    onOpen(data.document, version);
    setMessage(`Opened version ${version}.`);
  };

  const compare = async () => {
    if (!client || !from || !to) return;
    const [d, l, r] = await Promise.all([
      client.GET('/v1/tenants/{tenantId}/definitions/{definitionId}/diff', {
        params: { path, query: { from, to } },
      }),
      client.GET('/v1/tenants/{tenantId}/definitions/{definitionId}/versions/{version}', {
        params: { path: { ...path, version: from } },
      }),
      client.GET('/v1/tenants/{tenantId}/definitions/{definitionId}/versions/{version}', {
        params: { path: { ...path, version: to } },
      }),
    ]);
    if (!d.data || !l.data || !r.data) return report(d.response.status, d.error, 'Comparing');
    setDiff({ diff: d.data, left: l.data.document, right: r.data.document });
  };

  const published = versions.find((v) => v.published)?.version;
  return (
    <section aria-labelledby={`${uid}-h`} className="versions">
      <h2 id={`${uid}-h`}>Versions</h2>
      <button type="button" onClick={() => void save()} disabled={!client || !definitionId || !canSave}>
        Save as a version
      </button>{' '}
      <button type="button" onClick={() => void run()} disabled={!published}>
        Run the published version
      </button>
      {!canSave && <p className="hint">Fix the errors on the steps to save.</p>}
      {message && (
        <p role="status" className="ok">
          {message}
        </p>
      )}
      <Alert message={error} />
      {versions.length > 0 ? (
        <table data-testid="versions">
          <caption className="hint">Versions of {definitionId}</caption>
          <ColumnHeads names={['Version', 'Saved', 'Status', 'Actions']} />
          <tbody>
            {[...versions]
              .sort((a, b) => b.version - a.version)
              .map((v) => (
                <tr key={v.version} data-testid={`version-${v.version}`}>
                  <td>{v.version}</td>
                  <td>
                    {new Date(v.createdAt).toLocaleString()} by {v.createdBy}
                  </td>
                  <td>{v.published ? 'Published' : 'Draft'}</td>
                  <td>
                    <button type="button" className="link" onClick={() => void open(v.version)}>
                      Open version {v.version}
                    </button>{' '}
                    {!v.published && (
                      <button type="button" className="link" onClick={() => void publish(v.version)}>
                        Publish version {v.version}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
          </tbody>
        </table>
      ) : (
        <p className="hint">{definitionId ? 'No version saved yet.' : 'Name the definition to save it.'}</p>
      )}
      {versions.length > 1 && (
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            void compare();
          }}
        >
          <VersionSelect label="Compare version" value={from} versions={versions} onChange={setFrom} />
          <VersionSelect label="with version" value={to} versions={versions} onChange={setTo} />
          <button type="submit">Compare</button>
        </form>
      )}
      {diff && <SideBySide {...diff} />}
    </section>
  );
}

function VersionSelect({
  label,
  value,
  versions,
  onChange,
}: {
  label: string;
  value: number;
  versions: VersionRow[];
  onChange: (v: number) => void;
}) {
  const id = useId();
  return (
    <span className="field-inline">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(Number(e.target.value))}>
        {versions.map((v) => (
          <option key={v.version} value={v.version}>
            {v.version}
          </option>
        ))}
      </select>
    </span>
  );
}

type Side = 'left' | 'right';

/** Two versions' steps next to each other: added, removed and changed steps marked (in words, not colour alone). */
function SideBySide({ diff, left, right }: { diff: Diff; left: unknown; right: unknown }) {
  const stepsOf = (doc: unknown) => ((doc as { steps?: { id: string }[] })?.steps ?? []).map((s) => [s.id, s] as const);
  const changed = new Map(diff.steps.changed.map((c) => [c.stepId, c.paths]));
  const mark = (side: Side, id: string): [string, string] => {
    if (side === 'left' && diff.steps.removed.includes(id)) return ['diff-removed', 'removed'];
    if (side === 'right' && diff.steps.added.includes(id)) return ['diff-added', 'added'];
    if (changed.has(id)) return ['diff-changed', `changed: ${changed.get(id)!.join(', ')}`];
    return ['', 'same'];
  };
  const column = (side: Side, doc: unknown, version: number) => (
    <div className="diff-column">
      <h3>Version {version}</h3>
      {stepsOf(doc).map(([id, step]) => {
        const [cls, words] = mark(side, id);
        return (
          <div key={id} className={`diff-step ${cls}`} data-testid={`diff-${side}-${id}`}>
            <strong>{id}</strong> <span className="hint">({words})</span>
            {/* Focusable and labelled: a long step scrolls inside its box, and the keyboard must reach it. */}
            <pre tabIndex={0} aria-label={`Step ${id} in version ${version}`}>
              {JSON.stringify(step, null, 2)}
            </pre>
          </div>
        );
      })}
    </div>
  );
  return (
    <section aria-label="Differences" className="diff">
      <p>
        {diff.identical
          ? 'The two versions are identical.'
          : `${diff.steps.added.length} steps added, ${diff.steps.removed.length} removed, ${diff.steps.changed.length} changed; ${diff.edges.added.length} edges added, ${diff.edges.removed.length} removed.`}
      </p>
      <div className="diff-columns">
        {column('left', left, diff.from)}
        {column('right', right, diff.to)}
      </div>
    </section>
  );
}

/** Memoised: a drag on the canvas re-renders the designer, not this. */
export const VersionsPanel = memo(VersionsPanelView);
