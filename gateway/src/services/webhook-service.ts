import { createHash, randomBytes } from 'node:crypto';
import fp from 'fastify-plugin';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { BufferError, BufferErrorCode, type DataBuffer } from '@vansales/buffer';
// The codec alone: the package's index would bring every database driver into the gateway.
import { encodeChunk } from '@vansales/dataflow/chunk-codec';
import {
  connectorIdsOf,
  DEFINITION_WORKFLOW,
  definitionRunWorkflowId,
  type DatasetRef,
  type DefinitionRunInput,
  type DefinitionStore,
  type DefinitionVersion,
  type Trigger,
} from '@vansales/definitions';
import type { WebhookRepository } from '@vansales/metadata';
import { SearchAttribute } from '@vansales/temporal-config';
import { GatewayError, GatewayErrorCode } from '../errors';
import type { SecretBox } from '../webhooks/secret-box';
import {
  DEFAULT_TOLERANCE_SECONDS,
  deliveryIdOf,
  newWebhookSecret,
  secretProblem,
  verifyDelivery,
  type Headers,
} from '../webhooks/signatures';
import type { BufferService } from './buffer-service';
import type { RunQueues } from './run-queues';

type WebhookTrigger = Extract<Trigger, { kind: 'webhook' }>;

/** Whether control flags let a definition start a run (i10-api's checkRunAllowed has this shape). */
export type RunGate = (
  tenantId: string,
  definitionId: string,
  /** The connectors of the version about to run, when the caller has read it (else the gate reads it). */
  connectorIds?: string[],
) => Promise<{ allowed: true } | { allowed: false; message: string; flag?: string; setBy?: string }>;

export interface WebhookServiceDeps {
  repo: WebhookRepository;
  box: SecretBox;
  definitions: DefinitionStore;
  temporal: Client;
  workflowTaskQueue: string;
  runQueues?: RunQueues;
  buffer: DataBuffer;
  /** Writes through the buffer service, so a webhook body counts against the tenant's buffer quota. */
  bufferService: Pick<BufferService, 'writeChunk' | 'commit'>;
  /**
   * Control flags. i10-api: pass its `checkRunAllowed` here (gateway.ts); until then every run is allowed.
   */
  runAllowed?: RunGate;
  toleranceSeconds?: number;
  /**
   * The tenant's webhooksPerMinute quota (quota-service.ts): counted once a delivery is verified, so
   * unsigned traffic to a known address cannot use up the tenant's quota.
   */
  takeWebhook?: (tenantId: string) => Promise<void>;
  /** Longest wait for Temporal to accept a start before the delivery is answered 503. */
  startTimeoutMs?: number;
  /** Seconds Unix time; tests move it. */
  now?: () => number;
}

/** Content types a hook takes, and how the body becomes the run's dataset record. */
function bodyValue(contentType: string, body: Buffer): unknown {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  const text = body.toString('utf8');
  if (type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type)) {
    try {
      return JSON.parse(text);
    } catch {
      throw new GatewayError(GatewayErrorCode.badRequest, 'the body is not valid JSON, as its content type says');
    }
  }
  if (type === 'application/x-www-form-urlencoded') {
    const fields = Object.fromEntries(new URLSearchParams(text));
    // GitHub's form deliveries carry the event as JSON in one `payload` field.
    if (typeof fields.payload === 'string' && Object.keys(fields).length === 1) {
      try {
        return JSON.parse(fields.payload);
      } catch {
        return fields;
      }
    }
    return fields;
  }
  if (type === 'text/plain') return text;
  throw new GatewayError(
    GatewayErrorCode.unsupportedMediaType,
    `a hook takes application/json (or +json), application/x-www-form-urlencoded or text/plain, not ${type || 'a body without a content type'}`,
  );
}

/** The one-column schema of a webhook body dataset (one record: the parsed body). */
const BODY_SCHEMA = {
  columns: [{ name: 'body', type: { kind: 'json' }, nullable: true, nativeType: 'json' }],
  keyColumns: [],
};

/** Headers that say what the event is, kept with the run (never signatures or secrets). */
const EVENT_HEADERS = ['x-github-event', 'x-github-hook-id', 'webhook-id', 'content-type', 'user-agent'];

const hookPath = (hookId: string) => `/v1/hooks/${hookId}`;

/** Parsed definition versions a gateway node keeps for deliveries (each is immutable). */
const VERSION_CACHE_SIZE = 500;

/**
 * Webhook triggers: a hook per definition at POST /v1/hooks/<random id>, its signing secrets
 * (sealed at rest, two live during a rotation), and deliveries: verified on the raw body, the body
 * kept in the buffer by reference, the run started in Temporal under a workflow id derived from the
 * delivery id (a redelivery finds the run it started, on any gateway node), and only then answered.
 */
export function createWebhookService(deps: WebhookServiceDeps) {
  const { repo, box, definitions, temporal } = deps;
  const now = deps.now ?? (() => Math.floor(Date.now() / 1000));
  const tolerance = deps.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const startTimeoutMs = deps.startTimeoutMs ?? 10_000;

  const notPublished = (tenantId: string, definitionId: string) =>
    new GatewayError(
      GatewayErrorCode.conflict,
      `definition ${definitionId} of tenant ${tenantId} has no published version; publish one with a webhook trigger`,
    );

  /**
   * Versions are immutable and content-hashed: a document read once is kept by (version, hash), so
   * a delivery reads (and parses) it only the first time. Which version is published is read fresh
   * on every delivery (findForDelivery), so a publish on any node applies at once; no invalidation.
   */
  const versions = new Map<string, DefinitionVersion>();
  async function versionOf(tenantId: string, definitionId: string, published: { version: number; hash: string }) {
    const key = `${tenantId}\0${definitionId}\0${published.version}`;
    const cached = versions.get(key);
    if (cached?.hash === published.hash) return cached;
    const read = await definitions.version(tenantId, definitionId, published.version);
    if (!read) throw notPublished(tenantId, definitionId);
    if (read.hash === published.hash) {
      if (versions.size >= VERSION_CACHE_SIZE) versions.delete(versions.keys().next().value!);
      versions.set(key, read);
    }
    return read;
  }

  function webhookTrigger(version: DefinitionVersion): WebhookTrigger {
    const { definitionId } = version;
    const trigger = version.document.triggers.find((t): t is WebhookTrigger => t.kind === 'webhook');
    if (!trigger)
      throw new GatewayError(
        GatewayErrorCode.conflict,
        `the published version ${version.version} of definition ${definitionId} has no webhook trigger; add one ({"kind":"webhook","scheme":"standard-webhooks"}) and publish`,
      );
    return trigger;
  }

  async function publishedWithTrigger(
    tenantId: string,
    definitionId: string,
  ): Promise<{ version: DefinitionVersion; trigger: WebhookTrigger }> {
    const version = await definitions.published(tenantId, definitionId);
    if (!version) throw notPublished(tenantId, definitionId);
    return { version, trigger: webhookTrigger(version) };
  }

  function chosenSecret(trigger: WebhookTrigger, given?: string): string {
    if (given === undefined) return newWebhookSecret();
    const problem = secretProblem(trigger.scheme, given);
    if (problem) throw new GatewayError(GatewayErrorCode.badRequest, `secret: ${problem}`);
    return given;
  }

  function sealed(tenantId: string, hookId: string, secret: string) {
    const secretId = `whs_${randomBytes(12).toString('base64url')}`;
    return { secretId, ...box.seal(tenantId, hookId, secretId, secret) };
  }

  const secretInfo = (s: { secretId: string; createdAt: Date; expiresAt?: Date }) => ({
    secretId: s.secretId,
    createdAt: s.createdAt.toISOString(),
    expiresAt: s.expiresAt?.toISOString() ?? null,
  });

  async function startRun(
    input: DefinitionRunInput,
    workflowId: string,
  ): Promise<{ runId?: string; alreadyClosed: boolean }> {
    try {
      const handle = await temporal.withDeadline(Date.now() + startTimeoutMs, () =>
        temporal.workflow.start(DEFINITION_WORKFLOW, {
          taskQueue: deps.workflowTaskQueue,
          workflowId,
          args: [input],
          // A redelivery while the run is open finds it; after it closed, Temporal refuses the id
          // (within the namespace's retention), which is a duplicate too.
          workflowIdConflictPolicy: 'USE_EXISTING',
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          typedSearchAttributes: [
            { key: SearchAttribute.TenantId, value: input.tenantId },
            { key: SearchAttribute.DefinitionId, value: input.definitionId },
          ],
        }),
      );
      return { runId: handle.firstExecutionRunId, alreadyClosed: false };
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return { alreadyClosed: true };
      throw new GatewayError(
        GatewayErrorCode.unavailable,
        'the workflow service did not accept the run in time; deliver again later (a redelivery starts at most one run)',
        { retryAfterSeconds: 5 },
      );
    }
  }

  return {
    /** Creates the hook of a published definition with a webhook trigger; the secret is shown only here. */
    async create(tenantId: string, definitionId: string, options: { secret?: string } = {}) {
      const { trigger } = await publishedWithTrigger(tenantId, definitionId);
      const secret = chosenSecret(trigger, options.secret);
      const hookId = `wh_${randomBytes(24).toString('base64url')}`;
      const first = sealed(tenantId, hookId, secret);
      if (!(await repo.create({ hookId, tenantId, definitionId }, first)))
        throw new GatewayError(
          GatewayErrorCode.conflict,
          `definition ${definitionId} already has a webhook; rotate its secret (POST …/webhook/rotate) or delete it first`,
        );
      return { hookId, path: hookPath(hookId), scheme: trigger.scheme, secret, secretId: first.secretId };
    },

    /**
     * For the publish route: a definition published with a webhook trigger and no hook yet gets one;
     * its secret is returned once, in the publish answer. Undefined otherwise.
     */
    async ensureForDefinition(tenantId: string, definitionId: string) {
      const version = await definitions.published(tenantId, definitionId);
      if (!version?.document.triggers.some((t) => t.kind === 'webhook')) return undefined;
      if (await repo.forDefinition(version.tenantId, version.definitionId)) return undefined;
      return this.create(version.tenantId, version.definitionId).catch((err: unknown) => {
        // Another node published at the same moment and made it.
        if (err instanceof GatewayError && err.code === GatewayErrorCode.conflict) return undefined;
        throw err;
      });
    },

    /** A hook's address and its live secrets' ids and expiries (never a secret). */
    async describe(tenantId: string, definitionId: string) {
      const hook = await repo.forDefinition(tenantId, definitionId);
      if (!hook)
        throw new GatewayError(
          GatewayErrorCode.notFound,
          `definition ${definitionId} has no webhook in tenant ${tenantId}`,
        );
      return {
        hookId: hook.hookId,
        path: hookPath(hook.hookId),
        definitionId,
        createdAt: hook.createdAt.toISOString(),
        secrets: hook.secrets.map(secretInfo),
      };
    },

    /** A new current secret; the previous one stays valid for `previousValidSeconds`, older ones end now. */
    async rotate(tenantId: string, definitionId: string, options: { secret?: string; previousValidSeconds: number }) {
      const hook = await repo.forDefinition(tenantId, definitionId);
      if (!hook)
        throw new GatewayError(
          GatewayErrorCode.notFound,
          `definition ${definitionId} has no webhook in tenant ${tenantId}`,
        );
      const { trigger } = await publishedWithTrigger(tenantId, definitionId);
      const secret = chosenSecret(trigger, options.secret);
      const next = sealed(tenantId, hook.hookId, secret);
      const previousExpiresAt = new Date(Date.now() + options.previousValidSeconds * 1000);
      await repo.rotate(hook.hookId, next, previousExpiresAt);
      return {
        hookId: hook.hookId,
        secret,
        secretId: next.secretId,
        previousExpiresAt: previousExpiresAt.toISOString(),
      };
    },

    async remove(tenantId: string, definitionId: string) {
      if (!(await repo.remove(tenantId, definitionId)))
        throw new GatewayError(
          GatewayErrorCode.notFound,
          `definition ${definitionId} has no webhook in tenant ${tenantId}`,
        );
    },

    /**
     * One delivery. Answers only once Temporal has accepted the run (or already had it): 202 for a
     * new delivery, 200 for one seen before. Every refusal says what to fix; none echoes the body.
     */
    async deliver(hookId: string, request: { headers: Headers; body: Buffer; contentType: string }) {
      // One statement for the hook, its live secrets and which version is published (was 4).
      const hook = await repo.findForDelivery(hookId);
      if (!hook) throw new GatewayError(GatewayErrorCode.notFound, 'no webhook at this address');
      const { tenantId, definitionId } = hook;
      if (!hook.published) throw notPublished(tenantId, definitionId);
      const version = await versionOf(tenantId, definitionId, hook.published);
      const trigger = webhookTrigger(version);
      const secrets = hook.secrets.map((s) => box.open(tenantId, hookId, s.secretId, s.keyId, s.sealed));
      const verified = verifyDelivery({
        scheme: trigger.scheme,
        headers: request.headers,
        body: request.body,
        secrets,
        now: now(),
        toleranceSeconds: tolerance,
      });
      if (!verified.ok)
        throw new GatewayError(
          verified.reason === 'stale-timestamp' ? GatewayErrorCode.badRequest : GatewayErrorCode.unauthorized,
          verified.message,
          { reason: verified.reason },
        );
      const deliveryId = deliveryIdOf(trigger.scheme, request.headers, request.body, trigger.deliveryIdHeader);
      if (!deliveryId)
        throw new GatewayError(
          GatewayErrorCode.badRequest,
          trigger.deliveryIdHeader
            ? `the delivery has no ${trigger.deliveryIdHeader} header (at most 256 characters), which this trigger deduplicates by`
            : trigger.scheme === 'stripe'
              ? 'a Stripe delivery is a JSON event with an id'
              : `the delivery has no ${trigger.scheme === 'github' ? 'X-GitHub-Delivery' : 'webhook-id'} header`,
        );
      // i10-api: control flags (pause/stop per definition, connector, tenant) refuse new runs here.
      // The published version read above names the connectors: the gate need not read it again.
      const gate = deps.runAllowed
        ? await deps.runAllowed(tenantId, definitionId, connectorIdsOf(version.document))
        : { allowed: true as const };
      if (!gate.allowed)
        throw new GatewayError(GatewayErrorCode.locked, gate.message, { flag: gate.flag, setBy: gate.setBy });
      await deps.takeWebhook?.(tenantId);
      const value = bodyValue(request.contentType, request.body);

      // One key per (tenant, hook, delivery): the body's object and the run's workflow id, so every
      // redelivery, on any node, lands on the same object and the same run.
      const key = createHash('sha256').update(`${tenantId}\0${hookId}\0${deliveryId}`).digest('hex').slice(0, 40);
      const objectId = `wh${key}`;
      const workflowId = definitionRunWorkflowId(tenantId, definitionId, `wh-${key}`);
      let seenBefore = false;
      try {
        await deps.buffer.createObject(tenantId, { objectId });
        await deps.bufferService.writeChunk(tenantId, objectId, 0, await encodeChunk([[value]]), 1);
        await deps.bufferService.commit(tenantId, objectId, { schema: BODY_SCHEMA, chunkCount: 1, rowCount: 1 });
      } catch (err) {
        // Committed (or committed and expired) already: this delivery id was received before, here
        // or on another node at the same moment; its run is started (again) below, idempotently.
        const code = err instanceof BufferError ? err.code : undefined;
        if (code !== BufferErrorCode.alreadyCommitted && code !== BufferErrorCode.expired) throw err;
        seenBefore = true;
      }
      const body: DatasetRef = { objectId, rows: 1, columns: ['body'], writtenBy: 'cloud' };
      const headers = Object.fromEntries(
        EVENT_HEADERS.flatMap((h) => {
          const v = request.headers[h];
          return typeof v === 'string' ? [[h, v.slice(0, 256)]] : [];
        }),
      );
      const input: DefinitionRunInput = {
        tenantId,
        definitionId,
        version: version.version,
        hash: version.hash,
        document: version.document,
        input: { webhook: { hookId, deliveryId, receivedAt: new Date().toISOString(), headers, body } },
        trigger: { kind: 'webhook', id: deliveryId },
        ...deps.runQueues,
      };
      const started = await startRun(input, workflowId);
      return {
        status: seenBefore || started.alreadyClosed ? (200 as const) : (202 as const),
        workflowId,
        runId: started.runId ?? null,
        duplicate: seenBefore || started.alreadyClosed,
      };
    },
  };
}
export type WebhookService = ReturnType<typeof createWebhookService>;

declare module 'fastify' {
  interface FastifyInstance {
    webhooks: WebhookService;
  }
}

export const webhookServicePlugin = fp<Omit<WebhookServiceDeps, 'bufferService'>>(
  async (app, deps) =>
    void app.decorate('webhooks', createWebhookService({ ...deps, bufferService: app.bufferService })),
  { name: 'webhook-service', fastify: '5.x', dependencies: ['buffer-service'] },
);
