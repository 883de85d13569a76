'use client';

import jsonata from 'jsonata';
import { useEffect, useId, useState } from 'react';
import { describeFailure, type GatewayClient } from '../api/client';
import { errorMessage, expressionProblem } from './expressions';

/** The site table a mapping reads, when the step before it is a site database source. */
export interface SampleSource {
  connectorId: string;
  database: string;
  table: { schema?: string; name: string };
}

const SAMPLE_ROWS = 5;

/**
 * The map transform's fields: output field → JSONata over the input record, with a preview of
 * each output on sample rows. Rows are sampled on the site through the query route (the site's
 * policy applies: a refusal is shown as the site's answer), or pasted as JSON.
 */
export function MappingEditor({
  fields,
  onChange,
  source,
  client,
  tenantId,
}: {
  fields: Record<string, string>;
  onChange: (fields: Record<string, string>) => void;
  source: SampleSource | undefined;
  client: GatewayClient | undefined;
  tenantId: string;
}) {
  const uid = useId();
  const entries = Object.entries(fields);
  const [rows, setRows] = useState<Record<string, unknown>[]>([]);
  const [pasted, setPasted] = useState('');
  const [sampleNote, setSampleNote] = useState('');
  const [preview, setPreview] = useState<{ field: string; values: string[] }[]>([]);

  const rename = (from: string, to: string) =>
    onChange(Object.fromEntries(entries.map(([k, v]) => (k === from ? [to, v] : [k, v]))));

  useEffect(() => {
    let cancelled = false;
    void (async () => {
      const out: { field: string; values: string[] }[] = [];
      for (const [field, expression] of Object.entries(fields)) {
        const problem = expressionProblem(expression);
        const values: string[] = [];
        for (const row of rows) {
          if (problem) break;
          try {
            const result: unknown = await jsonata(expression).evaluate(row);
            values.push(result === undefined ? '(nothing)' : JSON.stringify(result));
          } catch (err) {
            values.push(`error: ${errorMessage(err)}`);
          }
        }
        out.push({ field, values });
      }
      if (!cancelled) setPreview(out);
    })();
    return () => {
      cancelled = true;
    };
  }, [fields, rows]);

  const sampleFromSite = async () => {
    if (!client || !source) return;
    setSampleNote('Asking the site for sample rows…');
    const table = source.table.schema ? `${source.table.schema}.${source.table.name}` : source.table.name;
    try {
      const { data, error, response } = await client.POST('/v1/tenants/{tenantId}/queries', {
        params: { path: { tenantId } },
        body: {
          connectorId: source.connectorId,
          database: source.database,
          sql: `SELECT * FROM ${table}`,
          maxRows: SAMPLE_ROWS,
          maxOfflineSeconds: 10,
        },
      });
      if (data && 'result' in data) {
        const names = data.result.columns.map((c) => c.name);
        setRows(data.result.rows.map((r) => Object.fromEntries(names.map((n, i) => [n, r[i]]))));
        setSampleNote(`${data.result.rows.length} rows sampled on the site from ${table}.`);
      } else if (data) {
        setSampleNote('The site did not answer in time (its agent may be offline); paste rows below instead.');
      } else {
        setSampleNote(
          `The site did not give sample rows: ${describeFailure(response.status, error)} Its policy decides what may be read; paste rows below instead.`,
        );
      }
    } catch {
      setSampleNote('The gateway did not answer; paste rows below instead.');
    }
  };

  return (
    <fieldset className="mapping-editor">
      <legend>Mapping (JSONata)</legend>
      <table>
        <caption className="hint">Each output field and the JSONata that computes it from the input record</caption>
        <thead>
          <tr>
            <th scope="col">Output field</th>
            <th scope="col">Expression</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {entries.map(([field, expression], i) => {
            const problem = expressionProblem(expression);
            return (
              <tr key={i}>
                <td>
                  <label className="visually-hidden" htmlFor={`${uid}-f${i}`}>
                    Output field {i + 1}
                  </label>
                  <input id={`${uid}-f${i}`} value={field} onChange={(e) => rename(field, e.target.value)} />
                </td>
                <td>
                  <label className="visually-hidden" htmlFor={`${uid}-e${i}`}>
                    Expression for {field}
                  </label>
                  <input
                    id={`${uid}-e${i}`}
                    className="mono"
                    value={expression}
                    aria-invalid={!!problem || undefined}
                    aria-describedby={problem ? `${uid}-p${i}` : undefined}
                    onChange={(e) => onChange({ ...fields, [field]: e.target.value })}
                  />
                  {problem && (
                    <span id={`${uid}-p${i}`} className="error">
                      {problem}
                    </span>
                  )}
                </td>
                <td>
                  <button
                    type="button"
                    className="link"
                    onClick={() => onChange(Object.fromEntries(entries.filter(([k]) => k !== field)))}
                  >
                    Remove {field || 'field'}
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <button
        type="button"
        onClick={() => {
          let n = entries.length + 1;
          while (`field${n}` in fields) n++;
          onChange({ ...fields, [`field${n}`]: '' });
        }}
      >
        Add a field
      </button>

      <h4>Preview on sample rows</h4>
      {source ? (
        <button type="button" onClick={() => void sampleFromSite()} disabled={!client}>
          Sample {SAMPLE_ROWS} rows of {source.table.name} on the site
        </button>
      ) : (
        <p className="hint">
          The step before this one is not a site table, so rows cannot be sampled on a site; paste some.
        </p>
      )}
      {sampleNote && (
        <p role="status" className="hint">
          {sampleNote}
        </p>
      )}
      <div className="field">
        <label htmlFor={`${uid}-rows`}>Sample rows (a JSON array of records)</label>
        <textarea
          id={`${uid}-rows`}
          rows={3}
          className="mono"
          value={pasted}
          onChange={(e) => {
            setPasted(e.target.value);
            try {
              const parsed: unknown = JSON.parse(e.target.value);
              if (Array.isArray(parsed)) setRows(parsed.filter((r) => r && typeof r === 'object').slice(0, 50));
            } catch {
              // Still typing: the preview keeps the last rows that parsed.
            }
          }}
        />
      </div>
      {rows.length > 0 && (
        <table data-testid="mapping-preview">
          <caption className="hint">Output of the mapping on {rows.length} sample rows</caption>
          <thead>
            <tr>
              {preview.map((p) => (
                <th scope="col" key={p.field}>
                  {p.field}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((_, r) => (
              <tr key={r}>
                {preview.map((p) => (
                  <td key={p.field} className="mono">
                    {p.values[r] ?? '—'}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </fieldset>
  );
}
