import fp from 'fastify-plugin';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { StepId } from '@vansales/definitions';
import { errorResponses, TenantParams } from './schemas';
import { actorLabelSchema, withActorLabels } from './actor-labels';
import { RUN_STATUSES } from '../services/definition-runs';
import { roleAllows, Permission } from '../http/access';
import { principalLabel } from '../http/people-audit';

/** A definition id as the model spells it (it becomes part of workflow ids and visibility queries). */
export const DefinitionId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'definition ids are lower-case letters, digits and -, at most 63');
export const DefinitionParams = TenantParams.extend({ definitionId: DefinitionId });
/** Run ids are the interpreter's workflow ids (def-<tenant>-<definition>-<key>, a schedule's with its time). */
const RunParams = DefinitionParams.extend({
  runId: z.string().regex(/^def-[A-Za-z0-9:.-]{1,240}$/, 'run ids look like def-<tenant>-<definition>-<key>'),
});

/**
 * Who the request acts as, recorded as a run's `startedBy`, a flag's `setBy`…: a person or a tenant
 * token as itself (`user:<id>`, `token:<id>`, as the people audit names them), so a run a person
 * started from the console is theirs; only the admin token, which operators share, takes its label
 * from `X-Actor` (`admin:<label>`, else `admin`).
 */
export const ACTOR_HEADER = 'x-actor';
export function actorOf(req: FastifyRequest): string {
  const who = principalLabel(req);
  if (who && who.principal !== 'admin-token') return who.principal;
  const label = req.headers[ACTOR_HEADER];
  return typeof label === 'string' && /^[A-Za-z0-9._@+-]{1,100}$/.test(label) ? `admin:${label}` : 'admin';
}

/** Idempotency-Key (IETF draft): printable ASCII, bounded; a retried request with it finds its run. */
const IdempotencyHeaders = z
  .object({
    'idempotency-key': z
      .string()
      .regex(/^[\x21-\x7e]{1,255}$/, 'Idempotency-Key is 1-255 printable ASCII characters')
      .optional(),
    'x-actor': z.string().max(100).optional().describe('who acts, recorded as started_by / set_by (admin:<label>)'),
  })
  .loose();

const StepStatus = z
  .object({
    state: z.string(),
    startedAt: z.string().optional(),
    finishedAt: z.string().optional(),
    attempts: z.number().optional(),
    placement: z.unknown().optional(),
    route: z.string().optional(),
    output: z.unknown().optional(),
    error: z.string().optional(),
  })
  .loose();
const StartedByLabel = actorLabelSchema('who started the run');
const RunSummary = z.object({
  runId: z.string(),
  definitionId: z.string(),
  version: z.number().nullable(),
  status: z
    .string()
    .describe('Temporal execution status: running, completed, failed, cancelled, terminated, timed_out'),
  trigger: z.string().nullable().describe('manual, api, retry, rerun; null for runs a schedule or webhook started'),
  startedBy: z.string().nullable(),
  startedByLabel: StartedByLabel,
  startedAt: z.string(),
  closedAt: z.string().nullable(),
});
const RunDetail = RunSummary.extend({
  run: z
    .object({ state: z.string(), version: z.number(), steps: z.record(z.string(), StepStatus) })
    .loose()
    .nullable()
    .describe("the interpreter's status (per-step state and timing); null when no interpreter worker answered"),
  edges: z
    .array(z.object({ from: z.string(), to: z.string() }))
    .describe("the run's document edges: a step's inputs are the outputs of the steps with an edge to it"),
  input: z.unknown().describe('the input the run started with (null when hidden or none)'),
  dataHidden: z
    .string()
    .nullable()
    .describe(
      "why inputs and outputs are left out (the caller's role may read runs but not their data); null when shown",
    ),
});
const TenantRunSummary = z.object({
  runId: z.string(),
  definitionId: z.string(),
  version: z.number(),
  status: z.string().describe('the last status read from Temporal; running runs are read again for each page'),
  trigger: z.string(),
  startedBy: z.string(),
  startedByLabel: StartedByLabel,
  startedAt: z.string(),
  statusAt: z.string().describe('when the status was last read'),
  connectorIds: z.array(z.string()).describe("the connectors the run's document names"),
});

/**
 * Who may see a run's inputs and outputs (rows of sites and APIs): the admin token and the roles
 * that run or write definitions. A viewer reads runs' status and timing only.
 */
const mayReadRunData = (req: FastifyRequest) =>
  req.principal.kind === 'admin' ||
  (!!req.memberRole &&
    (roleAllows(req.memberRole, Permission.runsWrite) || roleAllows(req.memberRole, Permission.definitionsWrite)));
const Started = z.object({
  runId: z.string(),
  version: z.number(),
  trigger: z.string(),
  startedBy: z.string(),
  created: z.boolean().describe('false when an earlier request with the same Idempotency-Key started it'),
});
const started = (r: {
  run: { workflowId: string; version: number; triggerKind: string; startedBy: string };
  created: boolean;
}) => ({
  runId: r.run.workflowId,
  version: r.run.version,
  trigger: r.run.triggerKind,
  startedBy: r.run.startedBy,
  created: r.created,
});
const options = (req: FastifyRequest) => ({
  idempotencyKey: (req.headers as { 'idempotency-key'?: string })['idempotency-key'],
  startedBy: actorOf(req),
});

const definitionRunRoutes: FastifyPluginAsyncZod = async (app) => {
  const base = '/v1/tenants/:tenantId/definitions/:definitionId';
  app.post(
    `${base}/runs`,
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'startDefinitionRun',
        tags: ['runs'],
        description:
          'Starts a run of the published version (or `version`), a manual or API trigger. With an Idempotency-Key header a repeated request answers 200 with the run the first one started; 409 while a control flag applies or when the definition is archived.',
        params: DefinitionParams,
        headers: IdempotencyHeaders,
        body: z.object({
          input: z.unknown().optional().describe('the run input (bounded JSON)'),
          version: z.number().int().min(1).max(2_147_483_647).optional(),
          trigger: z.enum(['manual', 'api']).optional().describe('default manual; the version must declare it'),
        }),
        response: { 200: Started, 201: Started, ...errorResponses(404, 409, 429) },
      },
    },
    async (req, reply) => {
      await app.quotas?.takeRun(req.params.tenantId);
      const out = await app.definitionRuns.start(req.params.tenantId, req.params.definitionId, req.body, options(req));
      return reply.code(out.created ? 201 : 200).send(started(out));
    },
  );

  app.get(
    '/v1/tenants/:tenantId/runs',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'listTenantRuns',
        tags: ['runs'],
        description:
          "Every run of the tenant started through the control plane (REST, retry, re-run), newest first, from the gateway's run table (indexed: a late page costs what the first does). Filters combine with AND; `next` is the cursor of the following page (pass it as `after`). Runs a schedule or a webhook started are listed per definition only (`GET …/definitions/:d/runs`).",
        params: TenantParams,
        querystring: z.object({
          status: z.enum(RUN_STATUSES).optional(),
          definition: DefinitionId.optional(),
          connector: z.string().min(1).max(128).optional().describe('runs whose document names this connector'),
          since: z.iso.datetime({ offset: true }).optional().describe('started at or after'),
          until: z.iso.datetime({ offset: true }).optional().describe('started before'),
          limit: z.coerce.number().int().min(1).max(200).default(50),
          after: z.string().max(600).optional().describe('the `next` of the previous page'),
        }),
        response: {
          200: z.object({ runs: z.array(TenantRunSummary), next: z.string().optional() }),
          ...errorResponses(404),
        },
      },
    },
    async (req) => {
      const { status, definition, connector, since, until, limit, after } = req.query;
      const page = await app.definitionRuns.listTenant(
        req.params.tenantId,
        {
          status,
          definitionId: definition,
          connectorId: connector,
          since: since ? new Date(since) : undefined,
          until: until ? new Date(until) : undefined,
        },
        { limit, after },
      );
      return { ...page, runs: await withActorLabels(app, req.params.tenantId, page.runs, 'startedBy') };
    },
  );

  app.get(
    `${base}/runs`,
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'listDefinitionRuns',
        tags: ['runs'],
        description: "The definition's runs, newest first, optionally of one status.",
        params: DefinitionParams,
        querystring: z.object({
          status: z.enum(RUN_STATUSES).optional(),
          limit: z.coerce.number().int().min(1).max(500).optional(),
        }),
        response: { 200: z.array(RunSummary), ...errorResponses() },
      },
    },
    async (req) =>
      withActorLabels(
        app,
        req.params.tenantId,
        await app.definitionRuns.list(req.params.tenantId, req.params.definitionId, req.query),
        'startedBy',
      ),
  );

  app.get(
    `${base}/runs/:runId`,
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'getDefinitionRun',
        tags: ['runs'],
        description:
          "A run's status and its steps' status and timing (the interpreter's query, or its result once ended).",
        params: RunParams,
        response: { 200: RunDetail, ...errorResponses(404) },
      },
    },
    async (req) => {
      const run = await app.definitionRuns.get(req.params.tenantId, req.params.definitionId, req.params.runId, {
        data: mayReadRunData(req),
      });
      return (await withActorLabels(app, req.params.tenantId, [run], 'startedBy'))[0]!;
    },
  );

  app.post(
    `${base}/runs/:runId/cancel`,
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'cancelDefinitionRun',
        tags: ['runs'],
        description: 'Asks a running run to cancel; 409 when it has ended.',
        params: RunParams,
        response: { 202: z.object({ runId: z.string(), cancelRequested: z.boolean() }), ...errorResponses(404, 409) },
      },
    },
    async (req, reply) =>
      reply
        .code(202)
        .send(await app.definitionRuns.cancel(req.params.tenantId, req.params.definitionId, req.params.runId)),
  );

  app.post(
    `${base}/runs/:runId/retry`,
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'retryDefinitionRun',
        tags: ['runs'],
        description:
          "A new run of a failed (or stopped, cancelled) run's version and input from `fromStep`: the outputs of the steps that completed and do not depend on it are reused.",
        params: RunParams,
        headers: IdempotencyHeaders,
        body: z.object({ fromStep: StepId }),
        response: { 200: Started, 201: Started, ...errorResponses(404, 409, 429) },
      },
    },
    async (req, reply) => {
      const { tenantId, definitionId, runId } = req.params;
      await app.quotas?.takeRun(tenantId);
      const out = await app.definitionRuns.retry(tenantId, definitionId, runId, req.body.fromStep, options(req));
      return reply.code(out.created ? 201 : 200).send(started(out));
    },
  );

  app.post(
    `${base}/runs/:runId/rerun`,
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'rerunDefinitionRun',
        tags: ['runs'],
        description: 'A new run of the same version with the same input.',
        params: RunParams,
        headers: IdempotencyHeaders,
        response: { 200: Started, 201: Started, ...errorResponses(404, 409, 429) },
      },
    },
    async (req, reply) => {
      const { tenantId, definitionId, runId } = req.params;
      await app.quotas?.takeRun(tenantId);
      const out = await app.definitionRuns.rerun(tenantId, definitionId, runId, options(req));
      return reply.code(out.created ? 201 : 200).send(started(out));
    },
  );

  app.post(
    `${base}/runs/:runId/approve`,
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'approveDefinitionRunStep',
        tags: ['runs'],
        description: "Approves (or rejects) a run's wait-for-signal step.",
        params: RunParams,
        body: z.object({ stepId: StepId, approved: z.boolean(), comment: z.string().max(2000).optional() }),
        response: {
          200: z.object({ runId: z.string(), stepId: z.string(), approved: z.boolean() }),
          ...errorResponses(404, 409),
        },
      },
    },
    async (req) =>
      app.definitionRuns.approve(
        req.params.tenantId,
        req.params.definitionId,
        req.params.runId,
        req.body,
        actorOf(req),
      ),
  );

  app.get(
    `${base}/schedules`,
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'listDefinitionSchedules',
        tags: ['schedules'],
        description: "The Temporal Schedules of the published version's schedule triggers, with their next run times.",
        params: DefinitionParams,
        response: {
          200: z.array(
            z.object({
              scheduleId: z.string(),
              paused: z.boolean(),
              note: z.string().nullable(),
              overlap: z.string(),
              catchupWindowMs: z.number(),
              nextRunTimes: z.array(z.string()),
              recentRuns: z.array(z.object({ scheduledAt: z.string(), workflowId: z.string() })),
            }),
          ),
          ...errorResponses(),
        },
      },
    },
    async (req) => app.definitionSchedules.list(req.params.tenantId, req.params.definitionId),
  );

  app.get(
    `${base}/watchers`,
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'listDefinitionWatchers',
        tags: ['triggers'],
        description:
          "The watchers of the published version's site-event triggers: state (watching, or held by a control flag), the last delivered row's position, batches and rows delivered, the last run started, and the last refusal from the site.",
        params: DefinitionParams,
        response: {
          200: z.array(
            z.object({
              watcherId: z.string(),
              state: z.enum(['watching', 'paused', 'stopped']),
              version: z.number(),
              position: z.array(z.unknown()).optional(),
              batches: z.number(),
              rows: z.number(),
              lastRunId: z.string().optional(),
              lastWoke: z.enum(['rows', 'notify', 'poll']).optional(),
              error: z.string().optional(),
            }),
          ),
          ...errorResponses(),
        },
      },
    },
    async (req) => app.siteEventWatchers.list(req.params.tenantId, req.params.definitionId),
  );

  for (const action of ['pause', 'resume'] as const)
    app.post(
      `${base}/schedules/:scheduleId/${action}`,
      {
        config: { auth: 'admin' },
        schema: {
          operationId: `${action}DefinitionSchedule`,
          tags: ['schedules'],
          description:
            action === 'pause'
              ? 'Pauses one schedule of the definition.'
              : 'Resumes one schedule; 409 while a control flag holds it.',
          params: DefinitionParams.extend({ scheduleId: z.string().regex(/^defsched-[a-z0-9-]{1,200}$/) }),
          response: { 200: z.object({ scheduleId: z.string(), paused: z.boolean() }), ...errorResponses(404, 409) },
        },
      },
      async (req) => {
        const { tenantId, definitionId, scheduleId } = req.params;
        return app.definitionSchedules[action](tenantId, definitionId, scheduleId, actorOf(req));
      },
    );
};

export default fp(definitionRunRoutes, {
  name: 'definition-run-routes',
  fastify: '5.x',
  encapsulate: true,
  dependencies: ['auth', 'identity-service', 'definition-run-service', 'definition-schedules', 'site-event-watchers'],
});
