'use client';

import Link from 'next/link';
import { useState, type FormEvent } from 'react';
import { useConnectors } from '../connector/use-connectors';
import { agentEndpoint, callGateway } from '../gateway-call';
import { ErrorLine } from '../tenant-nav';
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
  const [form, setForm] = useState<SiteDatabaseAnswers & { connectorName: string }>({
    connectorName: '',
    name: '',
    dialect: aggregator.dialect,
    host: '127.0.0.1',
    port: aggregator.defaultPort,
    user: '',
    database: '',
    dir: '/etc/vansales',
  });
  const [error, setError] = useState('');
  const [installed, setInstalled] = useState<Installed | undefined>(undefined);

  // Read the connectors again until the agent comes online (the hook stops when this form unmounts).
  const { connectors } = useConnectors(tenantId, WAIT_MS, !!installed);
  const status = connectors?.find((c) => c.id === installed?.connectorId);

  const set = (field: keyof typeof form) => (e: { target: { value: string } }) =>
    setForm({ ...form, [field]: field === 'port' ? Number(e.target.value) : e.target.value });

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const missing = (['connectorName', 'name', 'host', 'user', 'database', 'dir'] as const).filter(
      (f) => !String(form[f]).trim(),
    );
    if (missing.length) return setError(`Fill in: ${missing.join(', ')}.`);
    if (!DATABASE_NAME.test(form.name))
      return setError('The database name in the agent is letters, digits, _, . and - (for example sakila).');
    if (!Number.isInteger(form.port) || form.port < 1 || form.port > 65535)
      return setError('The port is a whole number from 1 to 65535.');
    setError('');
    const out = await callGateway((c) =>
      c.POST('/v1/tenants/{tenantId}/connectors', {
        params: { path: { tenantId } },
        body: { name: form.connectorName.trim() },
      }),
    );
    if (!out.ok) return setError(out.message);
    setInstalled({
      connectorId: out.data.id,
      name: out.data.name,
      commands: agentCommands(form, agentEndpoint(), out.data.apiKey),
    });
  };

  if (installed) {
    return (
      <section aria-labelledby="install-title">
        <h3 id="install-title">Run this on the site</h3>
        <p>
          Connector <strong>{installed.name}</strong> is created. Its key is in the first line and is shown{' '}
          <strong>only now</strong>: run these commands on the site machine (the second asks for the database password
          there, so it never passes through this console).
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
        <input name="connectorName" value={form.connectorName} onChange={set('connectorName')} required />
      </label>
      <label>
        Database name in the agent
        <input name="dbName" value={form.name} onChange={set('name')} required />
      </label>
      <label>
        Host (as the site sees it)
        <input name="host" value={form.host} onChange={set('host')} required />
      </label>
      <label>
        Port
        <input name="port" type="number" value={form.port} onChange={set('port')} required />
      </label>
      <label>
        Database login
        <span className="hint">A read-only login is best; its password is typed on the site, not here.</span>
        <input name="user" value={form.user} onChange={set('user')} required autoComplete="off" />
      </label>
      <label>
        Database
        <input name="database" value={form.database} onChange={set('database')} required />
      </label>
      <label>
        Install folder on the site
        <input name="dir" value={form.dir} onChange={set('dir')} required />
      </label>
      <ErrorLine message={error} />
      <button type="submit">Create connector and show the command</button>
    </form>
  );
}
