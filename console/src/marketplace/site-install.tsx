'use client';

import Link from 'next/link';
import { useState, type FormEvent } from 'react';
import { useConnectors } from '../connector/use-connectors';
import { agentEndpoint, callGateway } from '../gateway-call';
import { Alert } from '../alert';
import { agentCommands, type SiteDatabaseAnswers } from './agent-command';
import type { SiteAggregator } from './built-ins';

const WAIT_MS = 3_000;
const DATABASE_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

interface Installed {
  connectorId: string;
  name: string;
  commands: string[];
}

/**
 * Installing a site aggregator: the console creates the connector and its key (shown once), then
 * shows the commands to run on the site and waits for the agent. The database's host and user only
 * go into the commands; the password is typed on the site. Nothing here reaches the gateway but the
 * connector's name.
 */
export function SiteInstall({ tenantId, aggregator }: { tenantId: string; aggregator: SiteAggregator }) {
  const blank = (): SiteDatabaseAnswers => ({
    name: '',
    dialect: aggregator.dialect,
    host: '127.0.0.1',
    port: aggregator.defaultPort,
    user: '',
    database: '',
  });
  const [connectorName, setConnectorName] = useState('');
  const [dir, setDir] = useState('/etc/vansales');
  const [databases, setDatabases] = useState<SiteDatabaseAnswers[]>([blank()]);
  const [error, setError] = useState('');
  const [installed, setInstalled] = useState<Installed | undefined>(undefined);

  // Read the connectors again until the agent comes online (the hook stops when this form unmounts).
  const { connectors } = useConnectors(tenantId, WAIT_MS, !!installed);
  const status = connectors?.find((c) => c.id === installed?.connectorId);

  const setDb = (index: number, field: keyof SiteDatabaseAnswers) => (e: { target: { value: string } }) =>
    setDatabases((all) =>
      all.map((d, i) =>
        i === index ? { ...d, [field]: field === 'port' ? Number(e.target.value) : e.target.value } : d,
      ),
    );

  /** What the answers lack, in words (the gateway never sees them: they only make the commands). */
  const problems = (): string[] => {
    const out: string[] = [];
    if (!connectorName.trim()) out.push('Name the connector.');
    if (!dir.trim()) out.push('Give the install folder on the site.');
    databases.forEach((d, i) => {
      const n = `Database ${i + 1}`;
      if (!DATABASE_NAME.test(d.name))
        out.push(`${n}: its name in the agent is letters, digits, _, . and - (for example sakila).`);
      if (!d.host.trim() || !d.user.trim() || !d.database.trim()) out.push(`${n}: fill in host, login and database.`);
      if (!Number.isInteger(d.port) || d.port < 1 || d.port > 65535)
        out.push(`${n}: the port is a whole number from 1 to 65535.`);
    });
    if (new Set(databases.map((d) => d.name)).size !== databases.length) out.push('Give each database its own name.');
    return out;
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const found = problems();
    if (found.length) return setError(found.join(' '));
    setError('');
    const out = await callGateway((c) =>
      c.POST('/v1/tenants/{tenantId}/connectors', {
        params: { path: { tenantId } },
        body: { name: connectorName.trim() },
      }),
    );
    if (!out.ok) return setError(out.message);
    setInstalled({
      connectorId: out.data.id,
      name: out.data.name,
      commands: agentCommands({ dir: dir.trim(), databases }, agentEndpoint(), out.data.apiKey),
    });
  };

  if (installed) {
    return (
      <section aria-labelledby="install-title">
        <h3 id="install-title">Run this on the site</h3>
        <p>
          Connector <strong>{installed.name}</strong> is created. Its key is in the first line and is shown{' '}
          <strong>only now</strong>: run these commands on the site machine. Each <code>read -rs</code> line asks there
          for a database password, without echo, so no password passes through this console.
        </p>
        <pre className="command" data-testid="agent-command" tabIndex={0} aria-label="Commands to run on the site">
          {installed.commands.join('\n')}
        </pre>
        <p aria-live="polite" data-testid="install-status">
          {status?.online ? (
            <span>
              <span className="status status-online">Online</span> agent {status.agentVersion}, databases:{' '}
              {status.databases.join(', ') || 'none'}.{' '}
              <Link href={`/tenants/${encodeURIComponent(tenantId)}/connectors/${installed.connectorId}`}>
                Open the connector
              </Link>
            </span>
          ) : (
            'Waiting for the agent to come online…'
          )}
        </p>
      </section>
    );
  }

  return (
    <form onSubmit={(e) => void submit(e)} noValidate aria-label={`Install ${aggregator.title}`}>
      <label>
        Connector name
        <span className="hint">One connector per site, for example the warehouse&apos;s name.</span>
        <input name="connectorName" value={connectorName} onChange={(e) => setConnectorName(e.target.value)} required />
      </label>
      {databases.map((d, i) => (
        <fieldset key={i} aria-label={`Database ${i + 1}`}>
          <legend>Database {i + 1}</legend>
          <label>
            Name in the agent
            <input name={`db${i}-name`} value={d.name} onChange={setDb(i, 'name')} required />
          </label>
          <label>
            Host (as the site sees it)
            <input name={`db${i}-host`} value={d.host} onChange={setDb(i, 'host')} required />
          </label>
          <label>
            Port
            <input name={`db${i}-port`} type="number" value={d.port} onChange={setDb(i, 'port')} required />
          </label>
          <label>
            Login
            <span className="hint">A read-only login is best; its password is typed on the site, not here.</span>
            <input name={`db${i}-user`} value={d.user} onChange={setDb(i, 'user')} required autoComplete="off" />
          </label>
          <label>
            Database
            <input name={`db${i}-database`} value={d.database} onChange={setDb(i, 'database')} required />
          </label>
        </fieldset>
      ))}
      <button type="button" className="secondary" onClick={() => setDatabases((all) => [...all, blank()])}>
        Add another database
      </button>
      <label>
        Install folder on the site
        <input name="dir" value={dir} onChange={(e) => setDir(e.target.value)} required />
      </label>
      <Alert message={error} />
      <button type="submit">Create connector and show the command</button>
    </form>
  );
}
