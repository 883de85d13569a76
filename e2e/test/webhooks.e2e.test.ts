import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Worker } from '@temporalio/worker';
import { newBufferKeySpec } from '@vansales/buffer';
import { decodeChunk } from '@vansales/dataflow';
import { DEFINITION_FORMAT, type Trigger } from '@vansales/definitions';
import { createGateway, loadGatewayConfig, type Gateway, type Logger, type RunGate } from '@vansales/gateway';
import { throwawayPostgresDatabase } from '@vansales/test-kit';
import {
  connectTemporalClient,
  failureConverterPath,
  newPayloadKeySpec,
  SearchAttribute,
  temporalConnectionOptions,
  vansalesDataConverter,
} from '@vansales/temporal-config';
import { LogCapture, services, until } from './support/harness';
import { standardHeaders } from './support/webhook-signing';

/*
 * Webhook triggers through the real gateway (two nodes on one metadata store and buffer), the real
 * Temporal dev server and a stand-in for the interpreter workflow (support/definition-stand-in.ts).
 * Node B reaches Temporal through a TCP proxy the test can block.
 */

type WebhookTrigger = Extract<Trigger, { kind: 'webhook' }>;

/** A TCP proxy to Temporal that can stop forwarding: connections are then held, never answered. */
function temporalProxy(target: { host: string; port: number }) {
  let blocked = false;
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    if (blocked) return; // held: bytes go nowhere
    const upstream = connect(target.port, target.host);
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  const cut = () => {
    for (const s of sockets) s.destroy();
  };
  return {
    listen: () =>
      new Promise<string>((resolve) =>
        server.listen(0, '127.0.0.1', () => resolve(`127.0.0.1:${(server.address() as { port: number }).port}`)),
      ),
    block() {
      blocked = true;
      cut();
    },
    unblock() {
      blocked = false;
      cut();
    },
    close: () => new Promise<void>((resolve) => (cut(), server.close(() => resolve()))),
  };
}

describe('webhook triggers (real gateway nodes, Temporal, metadata store and buffer)', () => {
  const logs = new LogCapture();
  const refused = new Set<string>();
  const runAllowed: RunGate = async (tenantId, definitionId) =>
    refused.has(`${tenantId}/${definitionId}`)
      ? { allowed: false, message: `definition ${definitionId} is paused (flag set by ops@example.com)`, flag: 'pause' }
      : { allowed: true };
  const adminToken = randomBytes(32).toString('base64url');
  const payloadKeys = newPayloadKeySpec('test');
  const workflowTaskQueue = `workflows-wh-${randomBytes(4).toString('hex')}`;
  const [tenantA, tenantB] = [`wha${randomBytes(3).toString('hex')}`, `whb${randomBytes(3).toString('hex')}`];
  const proxy = temporalProxy({
    host: services.temporalAddress.split(':')[0]!,
    port: Number(services.temporalAddress.split(':')[1]),
  });
  let nodeA: Gateway;
  let nodeB: Gateway;
  let temporal: Client;
  let worker: Worker;
  let workerRun: Promise<void>;
  let native: NativeConnection;
  let dropDb: () => Promise<void>;
  let bufferDir: string;

  const api = async (node: Gateway, method: 'GET' | 'POST' | 'DELETE', url: string, body?: unknown) => {
    const res = await node.app.inject({
      method,
      url,
      payload: body as object | undefined,
      headers: { authorization: `Bearer ${adminToken}` },
    });
    return { status: res.statusCode, body: res.body ? (res.json() as Record<string, unknown>) : {} };
  };
  const deliver = async (node: Gateway, path: string, headers: Record<string, string>, body: string | Buffer) => {
    const res = await node.app.inject({ method: 'POST', url: path, headers, payload: body });
    return { status: res.statusCode, body: res.json() as Record<string, unknown> & { error?: { message: string } } };
  };
  /** Creates or adds a version through the definitions REST API, publishes it, returns the publish answer. */
  const publish = async (tenantId: string, definitionId: string, trigger: WebhookTrigger | undefined) => {
    const base = `/v1/tenants/${tenantId}/definitions`;
    const document = {
      format: DEFINITION_FORMAT,
      name: definitionId,
      triggers: trigger ? [trigger] : [{ kind: 'manual' }],
      steps: [{ id: 'pause', kind: 'wait', duration: '1s' }],
      edges: [],
    };
    const created = await api(nodeA, 'POST', base, { id: definitionId, document });
    const res =
      created.status === 201 ? created : await api(nodeA, 'POST', `${base}/${definitionId}/versions`, { document });
    expect([200, 201]).toContain(res.status);
    const version = (res.body.version as { version: number }).version;
    const published = await api(nodeA, 'POST', `${base}/${definitionId}/publish`, { version });
    expect(published.status).toBe(200);
    return published.body as { webhook?: { hookId: string; path: string; secret: string; secretId: string } };
  };
  /** Publishing with a webhook trigger makes the hook and shows its secret (once); `secret` then sets the sender's own. */
  const createHook = async (
    tenantId: string,
    definitionId: string,
    scheme: WebhookTrigger['scheme'],
    secret?: string,
  ) => {
    const { webhook } = await publish(tenantId, definitionId, { kind: 'webhook', scheme });
    expect(webhook?.secret).toMatch(/^whsec_/);
    if (!secret) return webhook!;
    const rotated = await api(nodeA, 'POST', `/v1/tenants/${tenantId}/definitions/${definitionId}/webhook/rotate`, {
      secret,
      previousValidSeconds: 0,
    });
    expect(rotated.status).toBe(200);
    return { ...webhook!, secret: rotated.body.secret as string };
  };
  const runResult = (workflowId: string) =>
    temporal.workflow.getHandle(workflowId).result() as Promise<{
      tenantId: string;
      definitionId: string;
      version: number;
      trigger: { kind: string; id: string };
      input: { webhook: { deliveryId: string; body: { objectId: string } } };
    }>;

  beforeAll(async () => {
    const db = await throwawayPostgresDatabase('vsc_wh');
    dropDb = () => db.drop();
    bufferDir = mkdtempSync(join(tmpdir(), 'vsc-wh-buffer-'));
    const env = {
      VSC_GATEWAY_PORT: '0',
      VSC_ADMIN_TOKEN: adminToken,
      TEMPORAL_ADDRESS: services.temporalAddress,
      TEMPORAL_NAMESPACE: services.temporalNamespace,
      VSC_WORKFLOW_TASK_QUEUE: workflowTaskQueue,
      DATABASE_URL: db.url,
      VSC_GATEWAY_CLUSTER: 'off',
      VSC_PAYLOAD_KEYS: payloadKeys,
      VSC_BUFFER_DIR: bufferDir,
      VSC_BUFFER_KEYS: newBufferKeySpec('test'),
      VSC_BUFFER_TOKEN_SECRET: randomBytes(32).toString('base64'),
      VSC_WEBHOOK_MAX_BODY_BYTES: String(64 * 1024),
      VSC_WEBHOOK_START_TIMEOUT_MS: '1500',
    };
    const logger = logs.logger('gateway') as unknown as Logger;
    nodeA = await createGateway(loadGatewayConfig(env), logger, { runAllowed });
    // The second node shares the metadata store and the buffer; its Temporal goes through the proxy.
    nodeB = await createGateway(loadGatewayConfig({ ...env, TEMPORAL_ADDRESS: await proxy.listen() }), logger, {
      runAllowed,
    });
    const options = temporalConnectionOptions(loadGatewayConfig(env));
    temporal = new Client({
      connection: await connectTemporalClient(options),
      namespace: services.temporalNamespace,
      dataConverter: vansalesDataConverter(payloadKeys),
    });
    native = await NativeConnection.connect(options);
    worker = await Worker.create({
      connection: native,
      namespace: services.temporalNamespace,
      taskQueue: workflowTaskQueue,
      workflowBundle: await bundleWorkflowCode({
        workflowsPath: require.resolve('./support/definition-stand-in'),
        failureConverterPath: failureConverterPath(),
        logger: new DefaultLogger('WARN'),
      }),
      dataConverter: vansalesDataConverter(payloadKeys),
    });
    workerRun = worker.run();
    for (const id of [tenantA, tenantB])
      expect((await api(nodeA, 'POST', '/v1/tenants', { id, name: id })).status).toBe(201);
  }, 180_000);

  afterAll(async () => {
    worker?.shutdown();
    await workerRun;
    await nodeA?.close();
    await nodeB?.close();
    await proxy.close();
    await native?.close();
    await temporal?.connection.close();
    await dropDb?.();
    rmSync(bufferDir, { recursive: true, force: true });
  });

  it('starts one run per delivery id, answering only after Temporal accepted it; a redelivery on another node gets 200', async () => {
    const hook = await createHook(tenantA, 'orders', 'standard-webhooks');
    expect(hook.hookId).toMatch(/^wh_[A-Za-z0-9_-]{32}$/);
    expect(hook.path).toBe(`/v1/hooks/${hook.hookId}`);
    expect(hook.secret).toMatch(/^whsec_/);
    // Shown once: never again.
    const described = await api(nodeA, 'GET', `/v1/tenants/${tenantA}/definitions/orders/webhook`);
    expect(described.status).toBe(200);
    expect(JSON.stringify(described.body)).not.toContain(hook.secret.slice(6));

    const body = '{"order":  {"id": 42, "lines": [1,2,3]}, "note": "spaced as sent"}';
    const first = await deliver(nodeA, hook.path, standardHeaders(hook.secret, 'msg_first', body), body);
    expect(first.status).toBe(202);
    expect(first.body.duplicate).toBe(false);
    const workflowId = first.body.workflowId as string;
    expect(workflowId.startsWith(`def-${tenantA}-orders-`)).toBe(true);
    const described2 = await temporal.workflow.getHandle(workflowId).describe();
    expect(described2.type).toBe('definitionWorkflow');
    expect(described2.typedSearchAttributes.get(SearchAttribute.TenantId)).toBe(tenantA);
    expect(described2.typedSearchAttributes.get(SearchAttribute.DefinitionId)).toBe('orders');

    // The run carries the body by reference; the object holds the body as one record.
    const result = await runResult(workflowId);
    expect(result).toMatchObject({
      tenantId: tenantA,
      definitionId: 'orders',
      trigger: { kind: 'webhook', id: 'msg_first' },
    });
    const objectId = result.input.webhook.body.objectId;
    expect(JSON.stringify(result)).not.toContain('spaced as sent');
    const rows = await decodeChunk(await nodeA.buffer.readChunk(tenantA, objectId, 0));
    expect(rows).toEqual([[JSON.parse(body)]]);

    // The same delivery again, to the other node, after the run finished: no second run.
    const again = await deliver(nodeB, hook.path, standardHeaders(hook.secret, 'msg_first', body), body);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ workflowId, duplicate: true });
    const runs = [];
    for await (const w of temporal.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push(w.runId);
    expect(runs).toEqual([first.body.runId]);

    // Eight identical deliveries at once, on both nodes, with a new delivery id: one run between them.
    const both = await Promise.all(
      [nodeA, nodeB, nodeA, nodeB, nodeA, nodeB, nodeA, nodeB].map((n) =>
        deliver(n, hook.path, standardHeaders(hook.secret, 'msg_both', body), body),
      ),
    );
    for (const r of both) expect([200, 202]).toContain(r.status);
    expect(new Set(both.map((r) => r.body.workflowId)).size).toBe(1);
    const runsBoth = [];
    for await (const w of temporal.workflow.list({ query: `WorkflowId = '${both[0]!.body.workflowId as string}'` }))
      runsBoth.push(w.runId);
    expect(runsBoth).toHaveLength(1);
  });

  it('sends no 2xx while Temporal is unreachable, and starts the run once it is back', async () => {
    const hook = await createHook(tenantA, 'blocked', 'standard-webhooks');
    const body = '{"n":1}';
    proxy.block();
    try {
      const refusedAnswer = await deliver(nodeB, hook.path, standardHeaders(hook.secret, 'msg_blocked', body), body);
      expect(refusedAnswer.status).toBe(503);
      expect(refusedAnswer.body.error?.message).toMatch(/deliver again later/);
    } finally {
      proxy.unblock();
    }
    const workflowId = await until('the run to start once Temporal is back', async () => {
      const res = await deliver(nodeB, hook.path, standardHeaders(hook.secret, 'msg_blocked', body), body);
      return res.status >= 200 && res.status < 300 ? (res.body.workflowId as string) : undefined;
    });
    expect((await runResult(workflowId)).trigger.id).toBe('msg_blocked');
  });

  it('keeps tenants apart: a hook starts only its own tenant’s definition', async () => {
    const hookA = (await api(nodeA, 'GET', `/v1/tenants/${tenantA}/definitions/orders/webhook`)).body as {
      path: string;
    };
    const hookB = await createHook(tenantB, 'orders', 'standard-webhooks');
    expect(hookB.path).not.toBe(hookA.path);
    const body = '{"tenant":"b"}';
    const res = await deliver(nodeA, hookB.path, standardHeaders(hookB.secret, 'msg_b', body), body);
    expect(res.status).toBe(202);
    expect((res.body.workflowId as string).startsWith(`def-${tenantB}-orders-`)).toBe(true);
    expect((await runResult(res.body.workflowId as string)).tenantId).toBe(tenantB);
    // B's secret does not open A's hook, nor A's secret B's.
    expect((await deliver(nodeA, hookA.path, standardHeaders(hookB.secret, 'msg_x', body), body)).status).toBe(401);
    // A tenant cannot make a hook for a definition it does not have, even one another tenant has.
    await publish(tenantB, 'b-only', { kind: 'webhook', scheme: 'standard-webhooks' });
    expect((await api(nodeA, 'POST', `/v1/tenants/${tenantA}/definitions/b-only/webhook`, {})).status).toBe(409);
    expect((await api(nodeA, 'GET', `/v1/tenants/${tenantA}/definitions/b-only/webhook`)).status).toBe(404);
  });

  it('runs the version published last, also when another node published it', async () => {
    const hook = await createHook(tenantA, 'republished', 'standard-webhooks');
    const body = '{}';
    const send = (node: Gateway) =>
      deliver(node, hook.path, standardHeaders(hook.secret, `msg_${randomBytes(4).toString('hex')}`, body), body);
    const first = await send(nodeB);
    expect(first.status).toBe(202);
    expect((await runResult(first.body.workflowId as string)).version).toBe(1);
    // nodeA publishes version 2; nodeB (which has read version 1 for a delivery) runs version 2 next.
    await publish(tenantA, 'republished', { kind: 'webhook', scheme: 'standard-webhooks', deliveryIdHeader: 'x-id' });
    const refused = await send(nodeB);
    expect(refused.status).toBe(400);
    expect(refused.body.error?.message).toMatch(/x-id/);
    const second = await deliver(
      nodeB,
      hook.path,
      { ...standardHeaders(hook.secret, 'msg_v2', body), 'x-id': 'delivery-2' },
      body,
    );
    expect(second.status).toBe(202);
    expect((await runResult(second.body.workflowId as string)).version).toBe(2);
    // And back to a version without a webhook trigger: refused at once.
    await publish(tenantA, 'republished', undefined);
    expect((await send(nodeB)).status).toBe(409);
  });

  it('rotates with two live secrets, the previous until its expiry', async () => {
    const hook = await createHook(tenantA, 'rotating', 'standard-webhooks');
    const rotate = async (previousValidSeconds: number) => {
      const res = await api(nodeA, 'POST', `/v1/tenants/${tenantA}/definitions/rotating/webhook/rotate`, {
        previousValidSeconds,
      });
      expect(res.status).toBe(200);
      return res.body as { secret: string; previousExpiresAt: string };
    };
    const body = '{}';
    // Rotations go to nodeA, deliveries to nodeB: a rotation applies on every node at once.
    const send = (secret: string) =>
      deliver(nodeB, hook.path, standardHeaders(secret, `msg_${randomBytes(4).toString('hex')}`, body), body);
    expect((await send(hook.secret)).status).toBe(202);
    const second = await rotate(3600);
    expect((await send(hook.secret)).status).toBe(202);
    expect((await send(second.secret)).status).toBe(202);
    const third = await rotate(3600);
    // Two live secrets at most: the first one ended with the second rotation.
    expect((await send(hook.secret)).status).toBe(401);
    expect((await send(second.secret)).status).toBe(202);
    expect((await send(third.secret)).status).toBe(202);
    const listed = (await api(nodeA, 'GET', `/v1/tenants/${tenantA}/definitions/rotating/webhook`)).body as {
      secrets: unknown[];
    };
    expect(listed.secrets).toHaveLength(2);
    await rotate(0);
    expect((await send(third.secret)).status).toBe(401);
  });

  it('verifies Stripe and GitHub deliveries with the secret the sender uses', async () => {
    const stripeSecret = `whsec_${randomBytes(24).toString('hex')}`;
    const stripe = await createHook(tenantA, 'stripe-events', 'stripe', stripeSecret);
    expect(stripe.secret).toBe(stripeSecret);
    const event = '{"id":"evt_1","object":"event","type":"invoice.paid"}';
    const t = Math.floor(Date.now() / 1000);
    const v1 = createHmac('sha256', stripeSecret).update(`${t}.${event}`).digest('hex');
    const ok = await deliver(
      nodeA,
      stripe.path,
      { 'stripe-signature': `t=${t},v1=${v1}`, 'content-type': 'application/json; charset=utf-8' },
      event,
    );
    expect(ok.status).toBe(202);
    expect((await runResult(ok.body.workflowId as string)).trigger.id).toBe('evt_1');

    const gh = await createHook(tenantA, 'gh-push', 'github');
    const push = '{"ref":"refs/heads/main"}';
    const sig = `sha256=${createHmac('sha256', gh.secret).update(push).digest('hex')}`;
    const headers = {
      'x-hub-signature-256': sig,
      'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      'x-github-event': 'push',
      'content-type': 'application/json',
    };
    expect((await deliver(nodeA, gh.path, headers, push)).status).toBe(202);
    expect((await deliver(nodeA, gh.path, headers, push)).status).toBe(200);
    const forged = sig.slice(0, -1) + (sig.endsWith('0') ? '1' : '0');
    expect((await deliver(nodeA, gh.path, { ...headers, 'x-hub-signature-256': forged }, push)).status).toBe(401);
  });

  it('refuses with a status and a message the sender can act on, starting nothing', async () => {
    const hook = await createHook(tenantA, 'strict', 'standard-webhooks');
    const body = '{"a":1}';
    const cases: [string, Promise<{ status: number; body: { error?: { message: string } } }>, number, RegExp][] = [
      [
        'unknown hook',
        deliver(
          nodeA,
          `/v1/hooks/wh_${randomBytes(24).toString('base64url')}`,
          standardHeaders(hook.secret, 'm1', body),
          body,
        ),
        404,
        /no webhook/,
      ],
      [
        'bad signature',
        deliver(nodeA, hook.path, standardHeaders(`whsec_${randomBytes(32).toString('base64')}`, 'm2', body), body),
        401,
        /no signature matches/,
      ],
      [
        'stale timestamp',
        deliver(nodeA, hook.path, standardHeaders(hook.secret, 'm3', body, Math.floor(Date.now() / 1000) - 600), body),
        400,
        /at most 300 s/,
      ],
      [
        'body changed after signing',
        deliver(nodeA, hook.path, standardHeaders(hook.secret, 'm4', body), '{"a":2}'),
        401,
        /no signature matches/,
      ],
      [
        'content type',
        deliver(
          nodeA,
          hook.path,
          { ...standardHeaders(hook.secret, 'm5', body), 'content-type': 'application/xml' },
          body,
        ),
        415,
        /application\/json/,
      ],
      [
        'not JSON',
        deliver(nodeA, hook.path, standardHeaders(hook.secret, 'm6', '{nope'), '{nope'),
        400,
        /not valid JSON/,
      ],
      [
        'too large',
        deliver(nodeA, hook.path, standardHeaders(hook.secret, 'm7', 'x'.repeat(70_000)), 'x'.repeat(70_000)),
        413,
        /too large/i,
      ],
    ];
    for (const [what, answer, status, message] of cases) {
      const res = await answer;
      expect({ what, status: res.status }).toEqual({ what, status });
      expect(res.body.error?.message).toMatch(message);
    }
    // Control flags refuse new runs with 423, naming the flag.
    refused.add(`${tenantA}/strict`);
    const paused = await deliver(nodeA, hook.path, standardHeaders(hook.secret, 'm8', body), body);
    refused.delete(`${tenantA}/strict`);
    expect(paused.status).toBe(423);
    expect(paused.body.error?.message).toMatch(/paused .*ops@example.com/);
    // A published version without a webhook trigger, then an archived definition, take no delivery.
    await publish(tenantA, 'strict', undefined);
    expect((await deliver(nodeA, hook.path, standardHeaders(hook.secret, 'm9', body), body)).status).toBe(409);
    expect((await api(nodeA, 'POST', `/v1/tenants/${tenantA}/definitions/strict/archive`)).status).toBe(200);
    const archived = await deliver(nodeA, hook.path, standardHeaders(hook.secret, 'm10', body), body);
    expect(archived.status).toBe(409);
    expect(archived.body.error?.message).toMatch(/no published version/);
    // None of these started a run.
    const started = [];
    for await (const w of temporal.workflow.list({
      query: `WorkflowType = 'definitionWorkflow' AND TenantId = '${tenantA}' AND DefinitionId = 'strict'`,
    }))
      started.push(w.workflowId);
    expect(started).toEqual([]);
    // A deleted hook's address answers 404; POST …/webhook makes a new one at another address, once.
    expect((await api(nodeA, 'DELETE', `/v1/tenants/${tenantA}/definitions/strict/webhook`)).status).toBe(204);
    expect((await deliver(nodeA, hook.path, standardHeaders(hook.secret, 'm11', body), body)).status).toBe(404);
    await publish(tenantA, 'again', { kind: 'webhook', scheme: 'standard-webhooks' });
    expect((await api(nodeA, 'DELETE', `/v1/tenants/${tenantA}/definitions/again/webhook`)).status).toBe(204);
    const remade = await api(nodeA, 'POST', `/v1/tenants/${tenantA}/definitions/again/webhook`, {});
    expect(remade.status).toBe(201);
    expect(remade.body.secret).toMatch(/^whsec_/);
    expect((await api(nodeA, 'POST', `/v1/tenants/${tenantA}/definitions/again/webhook`, {})).status).toBe(409);
  });

  it('logs no secret and no body', async () => {
    const hook = await createHook(tenantA, 'quiet', 'standard-webhooks');
    const marker = `body-marker-${randomBytes(6).toString('hex')}`;
    const body = JSON.stringify({ marker });
    expect((await deliver(nodeA, hook.path, standardHeaders(hook.secret, 'mq', body), body)).status).toBe(202);
    expect(
      (
        await deliver(
          nodeA,
          hook.path,
          standardHeaders(`whsec_${randomBytes(32).toString('base64')}`, 'mq2', body),
          body,
        )
      ).status,
    ).toBe(401);
    const text = logs.lines.join('\n');
    expect(logs.lines.length).toBeGreaterThan(0);
    expect(text).not.toContain(marker);
    expect(text).not.toContain(hook.secret.slice(6, 30));
  });
});
