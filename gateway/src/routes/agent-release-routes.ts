import fp from 'fastify-plugin';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  AGENT_UPDATE_CONTENT_TYPE,
  AGENT_UPDATE_ROUTES_PREFIX,
  AgentPlatform,
  AgentReleaseSums,
  AgentVersion,
} from '@vansales/protocol';
import { tenantOf } from '../http/auth';
import { changedBy } from './quota-routes';
import { Binary, errorResponses, TenantParams } from './schemas';

const ReleaseFile = z.object({ platform: z.string(), fileName: z.string(), sha256: z.string(), size: z.number() });
const AgentRelease = z.object({
  version: z.string(),
  createdBy: z.string(),
  createdAt: z.string(),
  files: z.array(ReleaseFile).describe('the executables uploaded so far'),
});
const AgentVersionApproval = z.object({
  tenantId: z.string(),
  approved: z
    .object({ version: z.string(), approvedBy: z.string(), approvedAt: z.string() })
    .nullable()
    .describe("the version the tenant's agents are offered (null: they stay on what they run)"),
  available: z.array(z.string()).describe('registered releases with at least one executable'),
});
const PublishedRelease = z.object({
  version: z.string(),
  platforms: z.array(z.string()).describe('the platforms whose executable was uploaded'),
  publishedAt: z.string().describe('when the platform operator registered the release'),
  notes: z.string().nullable().describe("the operator's release notes (null: none given)"),
});
const ReleaseNotes = z
  .string()
  .trim()
  .min(1)
  .max(4000)
  .optional()
  .describe('release notes shown to tenants before they approve the version (not signed; the agent never reads them)');
const VersionParams = z.object({ version: AgentVersion });
const FileParams = VersionParams.extend({ platform: AgentPlatform });

/**
 * Signed agent updates (issue 13 §5). The platform operator (admin token) registers releases and
 * uploads their executables; a tenant's owner or admin approves the version its agents run; an agent
 * fetches the approved version's signed sums and executable over its own authenticated routes.
 */
const agentReleaseRoutes: FastifyPluginAsyncZod<{
  /** Offers the tenant's connected agents its approved version (the hub: this node's, and the other nodes' through the cluster). */
  offerUpdates: (tenantId: string) => Promise<void>;
}> = async (app, { offerUpdates }) => {
  const releases = app.agentReleases;
  // Executables are streamed into the store chunk by chunk, never read whole into memory.
  app.addContentTypeParser(AGENT_UPDATE_CONTENT_TYPE, (_req, payload, done) => done(null, payload));

  app.get(
    '/v1/agent-releases',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'listAgentReleases',
        tags: ['agent-releases'],
        description:
          'The registered releases of the mini connector and their uploaded executables (platform operator).',
        response: { 200: z.object({ releases: z.array(AgentRelease) }), ...errorResponses(403) },
      },
    },
    async () => releases.list(),
  );

  app.put(
    '/v1/agent-releases/:version',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'registerAgentRelease',
        tags: ['agent-releases'],
        description:
          'Registers a release (platform operator): SHA256SUMS and SHA256SUMS.sig (base64) as ./vsc release agent wrote them, and optional release notes for tenants. The gateway does not check the signature (agents do, under keys they pin); the same release again is a no-op, other sums, signature or notes for a registered version are refused (409).',
        params: VersionParams,
        body: AgentReleaseSums.omit({ version: true }).extend({ notes: ReleaseNotes }),
        response: { 200: AgentRelease, ...errorResponses(403, 409) },
      },
    },
    async (req) => releases.register({ version: req.params.version, ...req.body }, changedBy(req)),
  );

  app.put(
    '/v1/agent-releases/:version/:platform',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'uploadAgentExecutable',
        tags: ['agent-releases'],
        description:
          "Uploads a registered release's executable for one platform (platform operator; application/octet-stream, up to 1 GiB). Refused (400) unless its sha256 is the one the release's sums give its file name.",
        params: FileParams,
        body: Binary,
        response: { 200: AgentRelease, ...errorResponses(403, 404, 415) },
      },
    },
    async (req) => releases.upload(req.params.version, req.params.platform, req.body as AsyncIterable<Buffer>),
  );

  app.get(
    '/v1/tenants/:tenantId/agent-releases',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'listPublishedAgentReleases',
        tags: ['agent-releases'],
        description:
          "The agent releases the tenant can approve (any member): those with an executable, newest first, with their platforms, date and notes. The signed sums and signature stay the operator's and the agents'.",
        params: TenantParams,
        response: { 200: z.object({ releases: z.array(PublishedRelease) }), ...errorResponses(404) },
      },
    },
    async (req) => {
      await app.tenants.require(req.params.tenantId);
      return releases.published();
    },
  );

  app.get(
    '/v1/tenants/:tenantId/agent-version',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'getAgentVersionApproval',
        tags: ['agent-releases'],
        description: 'The agent version the tenant approved, and the releases it could approve.',
        params: TenantParams,
        response: { 200: AgentVersionApproval, ...errorResponses(404) },
      },
    },
    async (req) => {
      await app.tenants.require(req.params.tenantId);
      return releases.approval(req.params.tenantId);
    },
  );

  app.put(
    '/v1/tenants/:tenantId/agent-version',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'approveAgentVersion',
        tags: ['agent-releases'],
        description:
          "Approves an agent version for the tenant (owner or admin): its connected agents are offered it now, the others when they connect. Each agent verifies the release's signature before running it, and a site can pin a version or turn updates off in its policy.",
        params: TenantParams,
        body: z.object({ version: AgentVersion }).strict(),
        response: { 200: AgentVersionApproval, ...errorResponses(404, 409) },
      },
    },
    async (req) => {
      const { tenantId } = req.params;
      await app.tenants.require(tenantId);
      const approval = await releases.approve(tenantId, req.body.version, changedBy(req));
      await offerUpdates(tenantId);
      return approval;
    },
  );

  app.delete(
    '/v1/tenants/:tenantId/agent-version',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'withdrawAgentVersion',
        tags: ['agent-releases'],
        description: "Withdraws the tenant's approval (owner or admin): agents stay on the version they run.",
        params: TenantParams,
        response: { 200: AgentVersionApproval, ...errorResponses(404) },
      },
    },
    async (req) => {
      await app.tenants.require(req.params.tenantId);
      return releases.withdraw(req.params.tenantId);
    },
  );

  app.get(
    `${AGENT_UPDATE_ROUTES_PREFIX}/:version/sums`,
    {
      config: { auth: 'agent-key' },
      schema: {
        operationId: 'getAgentUpdateSums',
        tags: ['agents'],
        description:
          "The signed SHA256SUMS of the version the agent's tenant approved (404 for any other). The agent verifies the signature under the release keys it pins.",
        params: VersionParams,
        response: { 200: AgentReleaseSums, ...errorResponses(403, 404, 429) },
      },
    },
    async (req) => releases.agentSums(tenantOf(req), req.params.version),
  );

  app.get(
    `${AGENT_UPDATE_ROUTES_PREFIX}/:version/:platform`,
    {
      config: { auth: 'agent-key' },
      schema: {
        operationId: 'getAgentUpdateExecutable',
        tags: ['agents'],
        description:
          "The executable of the approved version for one platform (404 for a version the agent's tenant did not approve). The agent checks its sha256 against the signed sums before using it.",
        params: FileParams,
        response: {
          200: { description: 'the executable', content: { [AGENT_UPDATE_CONTENT_TYPE]: { schema: Binary } } },
          ...errorResponses(403, 404, 429),
        },
      },
    },
    async (req, reply) => {
      const { size, stream } = await releases.agentFile(tenantOf(req), req.params.version, req.params.platform);
      return reply
        .type(AGENT_UPDATE_CONTENT_TYPE)
        .header('content-length', String(size))
        .header('cache-control', 'no-store')
        .send(stream);
    },
  );
};

export default fp(agentReleaseRoutes, {
  name: 'agent-release-routes',
  fastify: '5.x',
  encapsulate: true,
  dependencies: ['auth', 'agent-release-service', 'tenant-service'],
});
