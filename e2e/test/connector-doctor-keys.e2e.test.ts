import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOCTOR_LIMITS, type DoctorWarning } from '@vansales/protocol';
import { createAuditRepository } from '@vansales/metadata';
import {
  createConnector,
  sakilaDatabase,
  sakilaReader,
  services,
  startPlatform,
  until,
  type Platform,
} from './support/harness';
import { welcomedSocket } from './support/raw-agent-socket';

/**
 * Issue 12 §2 "Connectors": the agent's doctor warnings reach the REST API (and only bounded ones),
 * and one key of a connector is revoked without touching its others. Real gateway, real agents.
 */

interface DoctorAnswer {
  checkedAt: string | null;
  receivedAt: string | null;
  warnings: DoctorWarning[];
}
interface KeyRow {
  id: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  machineFingerprint: string | null;
}

/** The key's id as the gateway lists it: the 12 characters after `vmc_<tenant>_` (not secret). */
const keyIdOf = (apiKey: string) => apiKey.split('_')[2]!.slice(0, 12);

describe('connector doctor warnings and per-key revocation (real gateway, real agents)', () => {
  let platform: Platform;
  let tenantId: string;

  const newConnector = (name: string) => createConnector(platform, tenantId, name);
  const doctorOf = async (connectorId: string) => {
    const res = await platform.api<DoctorAnswer>('GET', `/v1/tenants/${tenantId}/connectors/${connectorId}/doctor`);
    expect(res.status).toBe(200);
    return res.body;
  };
  const keysOf = async (connectorId: string) => {
    const res = await platform.api<KeyRow[]>('GET', `/v1/tenants/${tenantId}/connectors/${connectorId}/keys`);
    expect(res.status).toBe(200);
    return res.body;
  };

  beforeAll(async () => {
    platform = await startPlatform();
    tenantId = `t-${randomBytes(4).toString('hex')}`;
    expect((await platform.api('POST', '/v1/tenants', { id: tenantId, name: 'Doctor' })).status).toBe(201);
  });

  afterAll(async () => {
    await platform?.close();
  });

  it("stores the agent's doctor warnings (a login that can write, a broken policy file) and serves them", async () => {
    const c = await newConnector('doctor-site');
    expect(await doctorOf(c.id)).toEqual({ checkedAt: null, receivedAt: null, warnings: [] });
    const dir = mkdtempSync(join(tmpdir(), 'vsc-doctor-'));
    const policyFile = join(dir, 'policy.json');
    writeFileSync(policyFile, '{ "writableTables": [ ');
    const reader = await sakilaReader();
    const agent = platform.startAgent({
      apiKey: c.apiKey,
      policyFile,
      databases: {
        // The test MariaDB's administrator: a login that could write everything.
        admin: sakilaDatabase({ user: services.mariadb.user, password: services.mariadb.password }),
        reader: sakilaDatabase(reader),
      },
    });
    await agent.welcomed;
    const welcomedAt = Date.now();
    const report = await until('the doctor report to arrive', async () => {
      const r = await doctorOf(c.id);
      return r.checkedAt ? r : undefined;
    });
    // A figure, not an assertion: from the welcome to the report readable through REST (50 ms polls).
    console.log(JSON.stringify({ metric: 'doctor-report-after-welcome', ms: Date.now() - welcomedAt, databases: 2 }));
    const checks = report.warnings.map((w) => `${w.check}:${w.severity}:${w.database ?? ''}`).sort();
    expect(checks).toEqual(['database.can-write:warning:admin', 'policy.invalid:error:']);
    const canWrite = report.warnings.find((w) => w.check === 'database.can-write')!;
    expect(canWrite.message).toMatch(/ALL PRIVILEGES|INSERT/);
    expect(canWrite.action).toMatch(/GRANT SELECT, SHOW VIEW ON `sakila`/);
    expect(report.warnings.find((w) => w.check === 'policy.invalid')!.message).toMatch(/not valid JSON/);
    // Names only: neither login nor its password reaches the gateway.
    const stored = JSON.stringify(report);
    expect(stored).not.toContain(services.mariadb.password);
    expect(stored).not.toContain(reader.password);
    expect(stored).not.toContain(reader.user);
    // Kept while the agent is offline.
    await agent.close();
    await until('the agent to be offline', () => !platform.gateway.hub.isOnline(c.id));
    expect((await doctorOf(c.id)).warnings).toHaveLength(2);
  });

  it('refuses a doctor report past the bounds or too often, and keeps the last good one', async () => {
    const c = await newConnector('hostile-doctor');
    const { ws, errors } = await welcomedSocket(platform, c.apiKey, 'hostile');
    const good = { check: 'clock.skew', severity: 'warning', message: 'ahead', action: 'sync the clock' };
    ws.send(JSON.stringify({ type: 'doctor', checkedAt: new Date().toISOString(), warnings: [good] }));
    await until('the good report', async () => (await doctorOf(c.id)).warnings.length === 1);
    // Too many warnings, an oversized message: refused by the frame's schema, nothing stored.
    const many = Array.from({ length: DOCTOR_LIMITS.warnings + 1 }, () => good);
    ws.send(JSON.stringify({ type: 'doctor', checkedAt: new Date().toISOString(), warnings: many }));
    const huge = { ...good, message: 'x'.repeat(DOCTOR_LIMITS.messageChars + 1) };
    ws.send(JSON.stringify({ type: 'doctor', checkedAt: new Date().toISOString(), warnings: [huge] }));
    await until('two refusals', () => errors.length >= 2);
    expect(errors.slice(0, 2)).toEqual(['invalid-frame', 'invalid-frame']);
    // A flood of valid reports: past the window's allowance each one is refused, not written.
    for (let i = 0; i < 5; i++)
      ws.send(
        JSON.stringify({
          type: 'doctor',
          checkedAt: new Date().toISOString(),
          warnings: [{ ...good, message: `flood ${i}` }],
        }),
      );
    await until('the flood refused', () => errors.includes('too-many-doctor-reports'));
    const after = await doctorOf(c.id);
    expect(after.warnings).toHaveLength(1);
    expect(after.warnings[0]!.message).not.toBe('flood 4');
    ws.close();
  });

  it('revokes one key: its agent is dropped and refused, the agent on the other key comes online; refusals name the key', async () => {
    const c = await newConnector('two-keys');
    const issued = await platform.api<{ apiKey: string }>('POST', `/v1/tenants/${tenantId}/connectors/${c.id}/keys`);
    expect(issued.status).toBe(201);
    const first = keyIdOf(c.apiKey);
    const second = keyIdOf(issued.body.apiKey);

    const agentA = platform.startAgent({ apiKey: c.apiKey, machineId: 'machine-a' });
    await agentA.welcomed;
    // The second machine's agent enrols its key and waits: one session per connector.
    const agentB = platform.startAgent({ apiKey: issued.body.apiKey, machineId: 'machine-b' });
    // Enrolment (the challenge) comes before the authenticated upgrade that sets lastUsedAt: wait for both.
    await until('the second key to be enrolled and used', async () =>
      (await keysOf(c.id)).find((k) => k.id === second && k.machineFingerprint && k.lastUsedAt),
    );
    const keys = await keysOf(c.id);
    expect(keys.map((k) => k.id)).toEqual([first, second]);
    expect(keys.every((k) => k.lastUsedAt && !k.revokedAt)).toBe(true);
    expect(keys[0]!.machineFingerprint).not.toEqual(keys[1]!.machineFingerprint);
    // Never the key itself.
    expect(JSON.stringify(keys)).not.toContain(c.apiKey.split('_')[2]);

    const revoked = await platform.api<{ revoked: string; disconnected: boolean }>(
      'POST',
      `/v1/tenants/${tenantId}/connectors/${c.id}/keys/${first}/revoke`,
    );
    expect(revoked).toEqual({ status: 200, body: { revoked: first, disconnected: true } });
    await expect(agentA.agent.done).resolves.toMatchObject({ code: 'key-revoked' });
    await agentB.welcomed;
    expect(platform.gateway.hub.isOnline(c.id)).toBe(true);
    // The revoked key is refused from then on, even from its own machine.
    const again = platform.startAgent({ apiKey: c.apiKey, machineId: 'machine-a' });
    await expect(again.agent.done).resolves.toMatchObject({ code: 'key-revoked' });
    expect(platform.gateway.hub.isOnline(c.id)).toBe(true);
    // Revoking it twice is a 404 (no live key by that id); another tenant's key id too.
    expect((await platform.api('POST', `/v1/tenants/${tenantId}/connectors/${c.id}/keys/${first}/revoke`)).status).toBe(
      404,
    );
    const listed = await keysOf(c.id);
    expect(listed.find((k) => k.id === first)!.revokedAt).not.toBeNull();
    expect(listed.find((k) => k.id === second)!.revokedAt).toBeNull();

    // The second key used from a third machine: refused, and the refusal names the key.
    const thief = platform.startAgent({ apiKey: issued.body.apiKey, machineId: 'machine-c' });
    await expect(thief.agent.done).resolves.toMatchObject({ code: 'key-bound-elsewhere' });
    const refusals = await platform.api<{ keyId: string; reason: string }[]>(
      'GET',
      `/v1/tenants/${tenantId}/connectors/${c.id}/refusals`,
    );
    expect(refusals.body).toContainEqual(
      expect.objectContaining({ keyId: second, reason: 'proof not signed by the enrolled key pair' }),
    );
    expect(platform.gateway.hub.isOnline(c.id)).toBe(true);

    // Issue and revoke are in the connector's key-events chain, and in the people audit with the key id.
    const chain = await createAuditRepository(platform.gateway.db).search(tenantId, `${c.id}/keys`, { limit: 50 });
    const operations = chain.map((e) => (e.record as { operation: string }).operation);
    expect(operations).toEqual(expect.arrayContaining(['key.issue', 'key.revoke']));
    expect(operations.filter((o) => o === 'key.issue')).toHaveLength(2);
    const people = await platform.api<{ events: Record<string, unknown>[] }>(
      'GET',
      `/v1/tenants/${tenantId}/audit?operation=${encodeURIComponent('POST /v1/tenants/:tenantId/connectors/:connectorId/keys/:keyId/revoke')}`,
    );
    expect(people.status).toBe(200);
    expect(people.body.events).toHaveLength(1);
    expect(JSON.stringify(people.body.events[0])).toContain(first);
    await agentB.close();
  });
});
