import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import WebSocket from 'ws';
import {
  AGENT_CHALLENGE_PATH,
  AGENT_ENROL_PATH,
  AgentChallenge,
  AgentProofHeader,
  generateAgentKeyPair,
  generateApiKey,
  ProofPurpose,
  publicKeyOf,
  signProof,
} from '@vansales/protocol';
import { createGatewayAuth, runCli } from '@vansales/connector-agent';
import { createConnector, startPlatform, until, type Platform } from './support/harness';

const tenant = () => `t-${randomBytes(4).toString('hex')}`;

/** What the gateway answers an upgrade: 101 (open) or the status and error body of a refusal. */
function upgrade(
  platform: Platform,
  headers: Record<string, string>,
): Promise<{ status: number; reason?: string; message?: string }> {
  return new Promise((resolve) => {
    const ws = new WebSocket(platform.gatewayWsUrl, { headers });
    ws.on('open', () => {
      ws.close();
      resolve({ status: 101 });
    });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => {
        const error = (JSON.parse(body) as { error: { reason?: string; message: string } }).error;
        resolve({ status: res.statusCode ?? 0, reason: error.reason, message: error.message });
      });
    });
    ws.on('error', () => undefined);
  });
}

async function challengeFor(platform: Platform, apiKey: string): Promise<AgentChallenge> {
  const res = await platform.gateway.app.inject({
    method: 'POST',
    url: AGENT_CHALLENGE_PATH,
    headers: { authorization: `Bearer ${apiKey}` },
    payload: {},
  });
  expect(res.statusCode).toBe(200);
  return AgentChallenge.parse(res.json());
}

const audienceOf = (platform: Platform) => new URL(platform.gatewayWsUrl).host;

/** Connect headers signed by `privateKeyPem` over a challenge obtained with `challengeKey`. */
async function signedHeaders(
  platform: Platform,
  apiKey: string,
  privateKeyPem: string,
  options: { challengeKey?: string; audience?: string } = {},
) {
  const c = await challengeFor(platform, options.challengeKey ?? apiKey);
  return {
    authorization: `Bearer ${apiKey}`,
    [AgentProofHeader.challenge]: c.challengeId,
    [AgentProofHeader.proof]: signProof(privateKeyPem, {
      purpose: ProofPurpose.connect,
      audience: options.audience ?? audienceOf(platform),
      tenantId: c.tenantId,
      connectorId: c.connectorId,
      challengeId: c.challengeId,
      nonce: c.nonce,
    }),
  };
}

describe('machine binding by key-pair proof (real gateway, real agents)', () => {
  let platform: Platform;
  let tenantId: string;

  const newConnector = (name: string) => createConnector(platform, tenantId, name);

  beforeAll(async () => {
    // The throttle has its own test below; here every refusal is the point, so allow many.
    platform = await startPlatform({ gateway: { VSC_AUTH_FAILURES_PER_WINDOW: '1000' } });
    tenantId = tenant();
    expect((await platform.api('POST', '/v1/tenants', { id: tenantId, name: 'Acme' })).status).toBe(201);
  });

  afterAll(async () => {
    await platform?.close();
  });

  it('refuses an intercepted key from another machine even when it connects first after issue', async () => {
    const c = await newConnector('intercepted');
    const thief = generateAgentKeyPair().privateKeyPem;
    // First after issue, with the key alone (the old binding took whatever came first)...
    expect(
      await upgrade(platform, { authorization: `Bearer ${c.apiKey}`, 'x-vsc-machine-id': 'thief-machine-1' }),
    ).toMatchObject({
      status: 403,
      reason: 'not-enrolled',
    });
    // ...and with a proof by its own key pair: connecting does not enrol.
    expect(await upgrade(platform, await signedHeaders(platform, c.apiKey, thief))).toMatchObject({
      status: 403,
      reason: 'not-enrolled',
    });
    // The real agent enrols its key pair (what init does) and connects.
    const real = platform.startAgent({ apiKey: c.apiKey });
    await real.welcomed;
    // The thief, now with the real agent's software: its key pair is not the enrolled one.
    const stolen = platform.startAgent({ apiKey: c.apiKey, machineId: 'thief-machine-1' });
    await expect(stolen.agent.done).resolves.toMatchObject({
      code: 'key-bound-elsewhere',
      message: expect.stringMatching(/bound to the key pair of the machine that enrolled it/),
    });
    // Enrolling its own key pair over the real one is refused too.
    const thiefAuth = createGatewayAuth({ gatewayUrl: platform.gatewayWsUrl, apiKey: c.apiKey, identityKey: thief });
    await expect(thiefAuth.enrol()).rejects.toMatchObject({ status: 403, reason: 'key-bound-elsewhere' });
    expect(await upgrade(platform, await signedHeaders(platform, c.apiKey, thief))).toMatchObject({
      status: 403,
      reason: 'key-bound-elsewhere',
    });
    const refusals = await platform.api<{ reason: string }[]>(
      'GET',
      `/v1/tenants/${tenantId}/connectors/${c.id}/refusals`,
    );
    expect(refusals.body.map((r) => r.reason)).toEqual([
      'connection with a key that has no enrolled key pair',
      'connection with a key that has no enrolled key pair',
      'proof not signed by the enrolled key pair',
      'enrolment with a key already enrolled by another key pair',
      'proof not signed by the enrolled key pair',
    ]);
    expect(platform.gateway.hub.isOnline(c.id)).toBe(true);
  });

  it('refuses a replayed signature: each challenge opens one connection', async () => {
    const c = await newConnector('replay');
    const agent = platform.startAgent({ apiKey: c.apiKey });
    await agent.welcomed;
    await agent.close();
    const headers = await signedHeaders(platform, c.apiKey, platform.machineKey());
    expect(await upgrade(platform, headers)).toEqual({ status: 101 });
    await until('the first session to end', () => !platform.gateway.hub.isOnline(c.id));
    expect(await upgrade(platform, headers)).toMatchObject({ status: 401, reason: 'challenge-unknown' });
  });

  it("refuses a challenge issued for another connector, and a proof made for another gateway's name", async () => {
    const a = await newConnector('proof-a');
    const b = await newConnector('proof-b');
    const agentA = platform.startAgent({ apiKey: a.apiKey });
    await agentA.welcomed;
    await agentA.close();
    // A's key and A's key pair, over a challenge the gateway issued to B's key.
    expect(
      await upgrade(
        platform,
        await signedHeaders(platform, a.apiKey, platform.machineKey(), { challengeKey: b.apiKey }),
      ),
    ).toMatchObject({ status: 403, reason: 'challenge-mismatch' });
    // The right challenge, signed for another gateway (as a lookalike gateway would have collected it).
    expect(
      await upgrade(
        platform,
        await signedHeaders(platform, a.apiKey, platform.machineKey(), { audience: 'evil.example.com' }),
      ),
    ).toMatchObject({ status: 403, reason: 'key-bound-elsewhere' });
    // And the honest proof still works.
    expect(await upgrade(platform, await signedHeaders(platform, a.apiKey, platform.machineKey()))).toEqual({
      status: 101,
    });
  });

  it('refuses an enrolment signed by another key than the one it enrols', async () => {
    const c = await newConnector('swap');
    const signer = generateAgentKeyPair().privateKeyPem;
    const other = generateAgentKeyPair();
    const ch = await challengeFor(platform, c.apiKey);
    const res = await platform.gateway.app.inject({
      method: 'POST',
      url: AGENT_ENROL_PATH,
      headers: { authorization: `Bearer ${c.apiKey}` },
      payload: {
        challengeId: ch.challengeId,
        publicKey: other.publicKey,
        signature: signProof(signer, {
          purpose: ProofPurpose.enrol,
          audience: audienceOf(platform),
          tenantId: ch.tenantId,
          connectorId: ch.connectorId,
          challengeId: ch.challengeId,
          nonce: ch.nonce,
          publicKey: other.publicKey,
        }),
      },
    });
    expect(res.statusCode).toBe(403);
    expect((await challengeFor(platform, c.apiKey)).enrolled).toBe(false);
  });

  it('moves a key to a new machine only by an operator re-bind, which is audited', async () => {
    const c = await newConnector('moving');
    const old = platform.startAgent({ apiKey: c.apiKey });
    await old.welcomed;
    // The new machine alone cannot take the key over.
    const early = platform.startAgent({ apiKey: c.apiKey, machineId: 'new-machine-1' });
    await expect(early.agent.done).resolves.toMatchObject({ code: 'key-bound-elsewhere' });

    // The operator pins the new machine's public key (printed by its init): the old agent is dropped.
    const pinned = publicKeyOf(platform.machineKey('new-machine-1'));
    const res = await platform.api<{ rebound: number; disconnected: boolean; publicKey: string }>(
      'POST',
      `/v1/tenants/${tenantId}/connectors/${c.id}/rebind`,
      { publicKey: pinned },
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ rebound: 1, disconnected: true, publicKey: expect.stringMatching(/^ed25519:/) });
    await expect(old.agent.done).resolves.toMatchObject({ code: 'key-revoked' });
    const moved = platform.startAgent({ apiKey: c.apiKey, machineId: 'new-machine-1' });
    await moved.welcomed;
    const back = platform.startAgent({ apiKey: c.apiKey });
    await expect(back.agent.done).resolves.toMatchObject({ code: 'key-bound-elsewhere' });

    // Or re-opens enrolment: the next agent to enrol wins.
    const reopened = await platform.api<{ enrolUntil: string }>(
      'POST',
      `/v1/tenants/${tenantId}/connectors/${c.id}/rebind`,
      {},
    );
    expect(reopened.body.enrolUntil).toEqual(expect.any(String));
    await expect(moved.agent.done).resolves.toMatchObject({ code: 'key-revoked' });
    const third = platform.startAgent({ apiKey: c.apiKey, machineId: 'third-machine' });
    await third.welcomed;

    // Key events have their own chain beside the agent operations' (which mirrors the agent's log).
    const events = await platform.gateway.db
      .selectFrom('audit_events')
      .select('record')
      .where('connector_id', '=', `${c.id}/keys`)
      .orderBy('seq')
      .execute();
    expect(events.map((e) => (e.record as { operation: string }).operation)).toEqual([
      // The connector's first key, issued with it.
      'key.issue',
      'agent.enrol',
      'key.rebind-to-key',
      'key.rebind-open',
      'agent.enrol',
    ]);
    const verify = await platform.api<{ ok: boolean }>(
      'GET',
      `/v1/tenants/${tenantId}/connectors/${c.id}/audit/verify`,
    );
    expect(verify.body.ok).toBe(true);
  });

  it('lets the first enrolment win and makes a later one fail loudly (the documented residual risk)', async () => {
    const c = await newConnector('race');
    const first = platform.startAgent({ apiKey: c.apiKey, machineId: 'whoever-was-first' });
    await first.welcomed;
    const second = platform.startAgent({ apiKey: c.apiKey });
    await expect(second.agent.done).resolves.toMatchObject({
      code: 'key-bound-elsewhere',
      message: expect.stringMatching(/bound to the key pair of the machine that enrolled it/),
    });
    // What init says on the machine that came second: it enrols explicitly, and is told why it cannot.
    const init = createGatewayAuth({
      gatewayUrl: platform.gatewayWsUrl,
      apiKey: c.apiKey,
      identityKey: platform.machineKey(),
    });
    await expect(init.enrol()).rejects.toMatchObject({
      status: 403,
      message: expect.stringMatching(/already enrolled by another machine.*revoke the key: someone else holds it/),
    });
  });

  it('init makes the key pair and enrols it in one command; an init on a second machine is refused, loudly', async () => {
    const c = await newConnector('init');
    const init = async (dir: string) => {
      let out = '';
      let err = '';
      const io = {
        stdin: new PassThrough(),
        stdout: new Writable({ write: (d: Buffer, _e, done) => ((out += d.toString()), done()) }),
        stderr: new Writable({ write: (d: Buffer, _e, done) => ((err += d.toString()), done()) }),
        env: { VSC_KEY: c.apiKey, DB_PW: 'x' },
      };
      const code = await runCli(
        [
          'init',
          '--non-interactive',
          '--dir',
          dir,
          '--gateway-url',
          platform.gatewayWsUrl,
          '--api-key-env',
          'VSC_KEY',
          '--database',
          'name=erp,dialect=postgres,user=reader,database=erp,password-env=DB_PW',
        ],
        io,
      );
      return { code, out, err };
    };
    const first = await init(mkdtempSync(join(tmpdir(), 'vsc-init-a-')));
    expect(first).toMatchObject({ code: 0, out: expect.stringMatching(/enrolled ed25519:\w+ with the gateway/) });
    // At enrolment init pins the keys the gateway's SDK registry signs with (trust on first use).
    expect(first.out).toMatch(/trusting the gateway's SDK registry keys [0-9a-f]{16} \(pinned in .*api-artifacts\)/);
    expect((await challengeFor(platform, c.apiKey)).enrolled).toBe(true);
    // The same key on a second machine (its own vault, so its own key pair).
    const second = await init(mkdtempSync(join(tmpdir(), 'vsc-init-b-')));
    expect(second.code).toBe(3);
    expect(second.err).toMatch(/already enrolled by another machine/);
    expect(second.out + second.err).not.toContain(c.apiKey);
  });

  it('keeps unknown keys out without telling whether they exist', async () => {
    const res = await platform.gateway.app.inject({
      method: 'POST',
      url: AGENT_CHALLENGE_PATH,
      headers: { authorization: `Bearer ${generateApiKey(tenantId)}` },
      payload: {},
    });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ error: { message: 'unknown API key' } });
  });
});

describe('failed agent authentications are throttled per source and per key prefix', () => {
  let platform: Platform;
  let tenantId: string;

  beforeAll(async () => {
    platform = await startPlatform({
      gateway: { VSC_AUTH_FAILURES_PER_WINDOW: '3', VSC_AUTH_THROTTLE_WINDOW_MS: '2000' },
    });
    tenantId = tenant();
    expect((await platform.api('POST', '/v1/tenants', { id: tenantId, name: 'Acme' })).status).toBe(201);
  });

  afterAll(async () => {
    await platform?.close();
  });

  it('answers 429 after N failures from one source, counts and logs them, and lets the source in again after the window', async () => {
    const c = await platform.api<{ id: string; apiKey: string }>('POST', `/v1/tenants/${tenantId}/connectors`, {
      name: 'throttled',
    });
    const tryKey = (apiKey: string) =>
      platform.gateway.app.inject({
        method: 'POST',
        url: AGENT_CHALLENGE_PATH,
        headers: { authorization: `Bearer ${apiKey}` },
        payload: {},
      });
    for (let i = 0; i < 3; i++) expect((await tryKey(generateApiKey(tenantId))).statusCode).toBe(401);
    // Even a good key is turned away from this source now, before it is looked up.
    const refused = await tryKey(c.body.apiKey);
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    expect(refused.json()).toMatchObject({ error: { code: 'TOO_MANY_REQUESTS' } });
    expect(platform.gateway.app.authThrottle.stats()).toMatchObject({ failures: 3, throttled: 1 });
    expect(platform.logs.lines.filter((l) => l.includes('agent authentication failed'))).toHaveLength(3);
    // The window passes: the source may try again.
    await until('the throttle window to pass', async () => (await tryKey(c.body.apiKey)).statusCode === 200, 10_000);
  });
});
