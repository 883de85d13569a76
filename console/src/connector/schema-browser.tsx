'use client';

import { useCallback, useEffect, useState } from 'react';
import type { paths } from '../api/client';
import { callGateway } from '../gateway-call';
import { Alert } from '../alert';
import { REFRESH_MS } from './use-connectors';

type SchemaPath = '/v1/tenants/{tenantId}/connectors/{connectorId}/schemas/{database}';
type Snapshot = paths[SchemaPath]['get']['responses']['200']['content']['application/json'];
type Change = paths[`${SchemaPath}/diff`]['get']['responses']['200']['content']['application/json'][number];
type Version = paths[`${SchemaPath}/versions`]['get']['responses']['200']['content']['application/json'][number];

/** One change of a diff in a sentence: what, where, and from/to when it has them. */
function describeChange(c: Change): string {
  const where = [c.schema, c.table, c.column].filter(Boolean).join('.');
  const fromTo = 'from' in c && 'to' in c ? `: ${JSON.stringify(c.from)} → ${JSON.stringify(c.to)}` : '';
  return `${c.change.replace(/-/g, ' ')} ${where}${fromTo}`;
}

/**
 * A site database's discovered schema: its versions (a new one whenever the structure changed), the
 * tables and columns of one version, and the differences between two.
 */
export function SchemaBrowser({
  tenantId,
  connectorId,
  databases,
}: {
  tenantId: string;
  connectorId: string;
  databases: string[];
}) {
  const [database, setDatabase] = useState(databases[0] ?? '');
  const [versions, setVersions] = useState<Version[]>([]);
  const [version, setVersion] = useState<number | undefined>(undefined);
  const [snapshot, setSnapshot] = useState<Snapshot | undefined>(undefined);
  const [diffFrom, setDiffFrom] = useState<number | undefined>(undefined);
  const [diff, setDiff] = useState<{ from: number; to: number; changes: Change[] } | undefined>(undefined);
  const [error, setError] = useState('');
  const [note, setNote] = useState('');
  const path = { tenantId, connectorId, database };

  useEffect(() => {
    if (!database && databases[0]) setDatabase(databases[0]);
  }, [database, databases]);

  const loadVersions = useCallback(async () => {
    if (!database) return;
    const out = await callGateway((c) =>
      c.GET('/v1/tenants/{tenantId}/connectors/{connectorId}/schemas/{database}/versions', {
        params: { path: { tenantId, connectorId, database } },
      }),
    );
    if (!out.ok) return setError(out.message);
    setError('');
    setVersions(out.data);
    const latest = out.data.at(-1)?.version;
    setVersion(latest);
    setDiffFrom(out.data.length > 1 ? out.data.at(-2)?.version : latest);
    setDiff(undefined);
  }, [tenantId, connectorId, database]);

  useEffect(() => void loadVersions(), [loadVersions]);

  // The agent discovers its databases when it connects: until the first version is in, look again.
  useEffect(() => {
    if (versions.length > 0) return;
    const timer = setInterval(() => void loadVersions(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [versions.length, loadVersions]);

  useEffect(() => {
    if (!database || version === undefined) return setSnapshot(undefined);
    void callGateway((c) =>
      c.GET('/v1/tenants/{tenantId}/connectors/{connectorId}/schemas/{database}', {
        params: { path: { tenantId, connectorId, database }, query: { version } },
      }),
    ).then((out) => (out.ok ? setSnapshot(out.data) : setError(out.message)));
  }, [tenantId, connectorId, database, version]);

  const discover = async () => {
    setNote('Asking the agent to discover the schema again…');
    const out = await callGateway((c) =>
      c.POST('/v1/tenants/{tenantId}/connectors/{connectorId}/schemas/{database}/discover', { params: { path } }),
    );
    if (!out.ok) {
      setNote('');
      return setError(out.message);
    }
    setNote(
      out.data.changed
        ? `Discovered: version ${out.data.version} is new.`
        : `Discovered: no change (version ${out.data.version}).`,
    );
    await loadVersions();
  };

  const compare = async () => {
    if (diffFrom === undefined || version === undefined) return;
    const out = await callGateway((c) =>
      c.GET('/v1/tenants/{tenantId}/connectors/{connectorId}/schemas/{database}/diff', {
        params: { path, query: { from: diffFrom, to: version } },
      }),
    );
    if (!out.ok) return setError(out.message);
    setDiff({ from: diffFrom, to: version, changes: out.data });
  };

  if (databases.length === 0) return <p>The agent has reported no database yet.</p>;
  const tables = snapshot?.snapshot.schemas.flatMap((s) => s.tables.map((t) => ({ ...t, schema: s.name }))) ?? [];

  return (
    <div data-testid="schema-browser">
      <div className="row">
        <label>
          Database
          <select value={database} onChange={(e) => setDatabase(e.target.value)}>
            {databases.map((d) => (
              <option key={d}>{d}</option>
            ))}
          </select>
        </label>
        <label>
          Version
          <select value={version ?? ''} onChange={(e) => setVersion(Number(e.target.value))}>
            {versions.map((v) => (
              <option key={v.version} value={v.version}>
                {v.version} ({new Date(v.createdAt).toLocaleString()})
              </option>
            ))}
          </select>
        </label>
        <button type="button" className="secondary" onClick={() => void discover()}>
          Discover again
        </button>
      </div>
      <Alert message={error} />
      {note && <p role="status">{note}</p>}
      {versions.length === 0 && <p>No version discovered yet for {database}.</p>}
      {snapshot && (
        <details open>
          <summary data-testid="schema-summary">
            {database} version {snapshot.version}: {tables.filter((t) => t.kind === 'table').length} tables,{' '}
            {tables.filter((t) => t.kind === 'view').length} views
          </summary>
          <ul className="tables" aria-label={`Tables of ${database} version ${snapshot.version}`}>
            {tables.map((t) => (
              <li key={`${t.schema}.${t.name}`}>
                <details>
                  <summary>
                    {t.name}{' '}
                    <span className="hint">
                      ({t.kind}, {t.columns.length} columns)
                    </span>
                  </summary>
                  <ul>
                    {t.columns.map((c) => (
                      <li key={c.name}>
                        <code>{c.name}</code> {c.dataType}
                        {c.nullable ? '' : ' not null'}
                      </li>
                    ))}
                  </ul>
                </details>
              </li>
            ))}
          </ul>
        </details>
      )}
      {versions.length > 0 && (
        <div className="row">
          <label>
            Compare from version
            <select value={diffFrom ?? ''} onChange={(e) => setDiffFrom(Number(e.target.value))}>
              {versions.map((v) => (
                <option key={v.version} value={v.version}>
                  {v.version}
                </option>
              ))}
            </select>
          </label>
          <button type="button" className="secondary" onClick={() => void compare()}>
            Show the differences to version {version}
          </button>
        </div>
      )}
      {diff && (
        <section aria-label="Schema differences" data-testid="schema-diff">
          <h4>
            From version {diff.from} to {diff.to}: {diff.changes.length}{' '}
            {diff.changes.length === 1 ? 'change' : 'changes'}
          </h4>
          <ul>
            {diff.changes.map((c, i) => (
              <li
                key={i}
                className={/added/.test(c.change) ? 'diff-added' : /removed/.test(c.change) ? 'diff-removed' : ''}
              >
                {describeChange(c)}
              </li>
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}
