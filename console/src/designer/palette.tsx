'use client';

import { memo, useEffect, useId, useState } from 'react';
import { describeFailure, type GatewayClient, type paths } from '../api/client';
import { builtInPalette, triggerKinds, type PaletteItem } from './step-kinds';

type Connector =
  paths['/v1/tenants/{tenantId}/connectors']['get']['responses']['200']['content']['application/json'][number];

/** The drag payload's type: the palette item as JSON (only the designer's canvas accepts it). */
export const PALETTE_MIME = 'application/x-vsc-step';

/**
 * Steps to add: the built-in kinds, tables of a connector's discovered schema (read or write), and
 * operations of the tenant's registered APIs. Each entry can be dragged onto the canvas or added
 * with its button (keyboard).
 */
function PaletteView({
  client,
  tenantId,
  onAdd,
  onAddTrigger,
}: {
  client: GatewayClient | undefined;
  tenantId: string;
  onAdd: (item: PaletteItem) => void;
  onAddTrigger: (kind: string) => void;
}) {
  const [tables, setTables] = useState<PaletteItem[]>([]);
  const [operations, setOperations] = useState<PaletteItem[]>([]);
  const groups = new Map<string, PaletteItem[]>();
  for (const item of [...tables, ...operations, ...builtInPalette()])
    groups.set(item.group, [...(groups.get(item.group) ?? []), item]);

  return (
    <nav aria-label="Palette" className="palette">
      <h2>Palette</h2>
      <section>
        <h3>Triggers</h3>
        <ul>
          {triggerKinds().map((kind) => (
            <li key={kind}>
              <button type="button" onClick={() => onAddTrigger(kind)}>
                Add trigger: {kind}
              </button>
            </li>
          ))}
        </ul>
      </section>
      <TablePicker client={client} tenantId={tenantId} onTables={setTables} />
      <ApiPicker client={client} tenantId={tenantId} onOperations={setOperations} />
      {[...groups].map(([group, items]) => (
        <section key={group}>
          <h3>{group}</h3>
          <ul>
            {items.map((item) => (
              <li
                key={item.key}
                draggable
                onDragStart={(e) => {
                  e.dataTransfer.setData(PALETTE_MIME, JSON.stringify(item));
                  e.dataTransfer.effectAllowed = 'copy';
                }}
                className="palette-item"
                data-testid={`palette-${item.key}`}
              >
                <button type="button" onClick={() => onAdd(item)} aria-label={`Add ${item.label}`}>
                  {item.label}
                </button>
              </li>
            ))}
          </ul>
        </section>
      ))}
    </nav>
  );
}

function TablePicker({
  client,
  tenantId,
  onTables,
}: {
  client: GatewayClient | undefined;
  tenantId: string;
  onTables: (items: PaletteItem[]) => void;
}) {
  const uid = useId();
  const [connectors, setConnectors] = useState<Connector[]>([]);
  const [connectorId, setConnectorId] = useState('');
  const [database, setDatabase] = useState('');
  const [note, setNote] = useState('');

  useEffect(() => {
    if (!client) return;
    void client
      .GET('/v1/tenants/{tenantId}/connectors', { params: { path: { tenantId } } })
      .then(({ data }) => {
        if (data) {
          setConnectors(data);
          if (data[0]) setConnectorId((c) => c || data[0]!.id);
        }
      })
      .catch(() => setNote('The gateway did not answer.'));
  }, [client, tenantId]);

  const load = async () => {
    if (!client || !connectorId || !database) return;
    const { data, error, response } = await client.GET(
      '/v1/tenants/{tenantId}/connectors/{connectorId}/schemas/{database}',
      { params: { path: { tenantId, connectorId, database } } },
    );
    if (!data) {
      setNote(
        response.status === 404
          ? `No discovered schema of ${database} on this connector yet (discover it from the connector's page).`
          : describeFailure(response.status, error),
      );
      onTables([]);
      return;
    }
    const items: PaletteItem[] = [];
    for (const schema of data.snapshot.schemas)
      for (const table of schema.tables) {
        const ref = { ...(data.snapshot.dialect === 'mysql' ? {} : { schema: schema.name }), name: table.name };
        const endpoint = { kind: 'site-db', connectorId, database };
        const key = table.primaryKey ?? [];
        items.push(
          {
            key: `read-${schema.name}.${table.name}`,
            label: `Read ${table.name}`,
            group: 'Tables',
            idBase: `read-${table.name.toLowerCase()}`,
            step: { kind: 'source', db: { endpoint, table: ref } },
          },
          {
            key: `write-${schema.name}.${table.name}`,
            label: `Write ${table.name}`,
            group: 'Tables',
            idBase: `write-${table.name.toLowerCase()}`,
            step: { kind: 'destination', db: { endpoint, table: ref, keyColumns: key.length ? key : ['id'] } },
          },
        );
      }
    setNote(`${items.length / 2} tables of ${database} (schema version ${data.version}).`);
    onTables(items);
  };

  return (
    <section>
      <h3>Tables of a site</h3>
      <div className="field">
        <label htmlFor={`${uid}-c`}>Connector</label>
        <select id={`${uid}-c`} value={connectorId} onChange={(e) => setConnectorId(e.target.value)}>
          {connectors.length === 0 && <option value="">(no connector)</option>}
          {connectors.map((c) => (
            <option key={c.id} value={c.id}>
              {c.name}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor={`${uid}-d`}>Database</label>
        <input id={`${uid}-d`} value={database} onChange={(e) => setDatabase(e.target.value)} />
      </div>
      <button type="button" onClick={() => void load()} disabled={!connectorId || !database}>
        Show tables
      </button>
      {note && (
        <p role="status" className="hint">
          {note}
        </p>
      )}
    </section>
  );
}

function ApiPicker({
  client,
  tenantId,
  onOperations,
}: {
  client: GatewayClient | undefined;
  tenantId: string;
  onOperations: (items: PaletteItem[]) => void;
}) {
  const [note, setNote] = useState('');
  useEffect(() => {
    if (!client) return;
    let cancelled = false;
    void (async () => {
      const items: PaletteItem[] = [];
      const { data: apis } = await client.GET('/v1/tenants/{tenantId}/apis', { params: { path: { tenantId } } });
      for (const api of apis ?? []) {
        const { data: versions } = await client.GET('/v1/tenants/{tenantId}/apis/{apiId}/versions', {
          params: { path: { tenantId, apiId: api.id } },
        });
        const latest = Math.max(0, ...(versions ?? []).map((v) => v.version));
        if (!latest) continue;
        const { data: manifest } = await client.GET(
          '/v1/tenants/{tenantId}/apis/{apiId}/versions/{version}/operations',
          { params: { path: { tenantId, apiId: api.id, version: latest } } },
        );
        for (const op of manifest?.operations ?? []) {
          const reads = op.method.toUpperCase() === 'GET';
          const method = op.method.toUpperCase();
          const writeMethod = ['PUT', 'PATCH'].includes(method) ? method : 'POST';
          items.push({
            key: `api-${api.id}-${latest}-${op.key}`,
            label: `${api.name}: ${op.summary ?? op.key}`,
            group: 'API operations',
            idBase: `${reads ? 'get' : 'send'}-${api.id}`,
            step: {
              kind: reads ? 'source' : 'destination',
              http: {
                operation: { apiId: api.id, version: latest, key: op.key },
                method: reads ? 'GET' : writeMethod,
                path: op.path,
              },
            },
          });
        }
      }
      if (!cancelled) {
        onOperations(items);
        setNote(items.length ? '' : 'No registered API operation yet (add an API in the marketplace).');
      }
    })().catch(() => !cancelled && setNote('The API list did not load.'));
    return () => {
      cancelled = true;
    };
  }, [client, tenantId, onOperations]);
  return note ? (
    <section>
      <h3>API operations</h3>
      <p className="hint">{note}</p>
    </section>
  ) : null;
}

/** Memoised: a drag on the canvas re-renders the designer, not this. */
export const Palette = memo(PaletteView);
