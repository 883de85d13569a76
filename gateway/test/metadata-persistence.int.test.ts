import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { testServices } from '@vansales/test-kit';
import { createGateway, createLogger, loadGatewayConfig, type Gateway } from '@vansales/gateway';
import { generateAgentKeyPair, ProofPurpose, signProof } from '@vansales/protocol';

// The gateway as an operator starts it with nothing but the required settings: no DATABASE_URL and
// no VSC_METADATA_DIR. Before, that meant a store in memory, and a restart forgot every key,
// binding and revocation.
describe('a gateway started without VSC_METADATA_DIR (real Temporal)', () => {
  const services = testServices();
  let work: string;
  let gateway: Gateway | undefined;
  const adminToken = randomBytes(32).toString('base64url');
  const env = () => ({
    VSC_ADMIN_TOKEN: adminToken,
    VSC_PAYLOAD_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
    VSC_BUFFER_KEYS: `b1:${Buffer.alloc(32, 8).toString('base64')}`,
    VSC_BUFFER_TOKEN_SECRET: Buffer.alloc(32, 9).toString('base64'),
    TEMPORAL_ADDRESS: services.temporalAddress,
    TEMPORAL_NAMESPACE: services.temporalNamespace,
    XDG_STATE_HOME: join(work, 'xdg'),
    VSC_GATEWAY_CLUSTER: 'off',
  });
  const start = async () => createGateway(loadGatewayConfig(env()), createLogger('silent', 'gateway'));
  const api = async (method: 'GET' | 'POST', url: string, payload?: unknown) =>
    gateway!.app.inject({
      method,
      url,
      payload: payload as object,
      headers: { authorization: `Bearer ${adminToken}` },
    });

  const ctx = { audiences: ['gateway.test'] };
  /** The agent's side of a proof, as the agent makes it: a challenge signed by its key pair. */
  const proof = async (apiKey: string, privateKeyPem: string, purpose: ProofPurpose, publicKey?: string) => {
    const c = await gateway!.app.keys.challenge(apiKey);
    const signature = signProof(privateKeyPem, {
      purpose,
      audience: ctx.audiences[0]!,
      tenantId: c.tenantId,
      connectorId: c.connectorId,
      challengeId: c.challengeId,
      nonce: c.nonce,
      ...(publicKey ? { publicKey } : {}),
    });
    return { challengeId: c.challengeId, signature };
  };
  const connect = async (apiKey: string, privateKeyPem: string) =>
    gateway!.app.keys.authenticateAgent(apiKey, await proof(apiKey, privateKeyPem, ProofPurpose.connect), ctx);
  const machine1 = generateAgentKeyPair();
  const machine2 = generateAgentKeyPair();

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'vsc-persist-'));
  });
  afterAll(async () => {
    await gateway?.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('keeps tenants, connectors, keys, key-pair bindings and revocations across a restart', async () => {
    gateway = await start();
    expect((await api('POST', '/v1/tenants', { id: 'acme', name: 'Acme' })).statusCode).toBe(201);
    const hq = (await api('POST', '/v1/tenants/acme/connectors', { name: 'hq' })).json<{
      id: string;
      apiKey: string;
    }>();
    const old = (await api('POST', '/v1/tenants/acme/connectors', { name: 'old' })).json<{
      id: string;
      apiKey: string;
    }>();
    const enrolment = await proof(hq.apiKey, machine1.privateKeyPem, ProofPurpose.enrol, machine1.publicKey);
    await gateway.app.keys.enrol(hq.apiKey, { ...enrolment, publicKey: machine1.publicKey }, ctx);
    await connect(hq.apiKey, machine1.privateKeyPem);
    expect((await api('POST', `/v1/tenants/acme/connectors/${old.id}/revoke`)).statusCode).toBe(200);
    await gateway.close();

    gateway = await start();
    const listed = (await api('GET', '/v1/tenants/acme/connectors')).json<{ items?: { name: string }[] }>();
    expect(JSON.stringify(listed)).toContain('"hq"');
    await expect(connect(hq.apiKey, machine1.privateKeyPem)).resolves.toMatchObject({
      tenantId: 'acme',
      connectorId: hq.id,
    });
    await expect(connect(hq.apiKey, machine2.privateKeyPem)).rejects.toThrow(/bound to the key pair/);
    await expect(gateway.app.keys.challenge(old.apiKey)).rejects.toThrow(/revoked/);
    // Where it lives: the state folder, for this user only.
    const state = join(work, 'xdg', 'vansales-connect', 'gateway');
    for (const dir of [state, join(state, 'metadata'), join(state, 'buffer')])
      expect(statSync(dir).mode & 0o777).toBe(0o700);
  });
});
