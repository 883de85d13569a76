import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import fp from 'fastify-plugin';
import type { BlobStore } from '@vansales/buffer';
import type { AgentReleaseRepository } from '@vansales/metadata';
import {
  AGENT_PLATFORMS,
  agentExecutableName,
  expectedSha256,
  type AgentPlatform,
  type AgentReleaseSums,
  type AgentUpdateOffer,
  type HelloFrame,
} from '@vansales/protocol';
import { GatewayError, GatewayErrorCode } from '../errors';

/**
 * Signed agent updates (issue 13 §5), the gateway's side: the platform operator registers a release
 * (its SHA256SUMS and the release key's signature) and uploads its executables; a tenant's owner or
 * admin approves one version; a connected agent is offered it and fetches the sums and its
 * platform's executable over its own authenticated routes.
 *
 * The executables (about 160 MB each) live in the buffer's store under `agent-releases/` in 8 MiB
 * chunks: every gateway node of a cluster reads the same store (a node-local folder would not), an
 * upload or a download holds one chunk in memory at a time, and nothing under that prefix expires
 * (the buffer's lifecycle rule and purge cover `buffer/` only). The gateway checks an upload against
 * the registered sums so the store holds only what was registered; the signature is the agent's to
 * verify: the gateway is not trusted with it.
 */
export const AGENT_RELEASE_PREFIX = 'agent-releases/';
export const AGENT_RELEASE_CHUNK_BYTES = 8 * 1024 * 1024;
/** Past any executable the release builds (the runtime alone is about 150 MB). */
export const AGENT_RELEASE_MAX_BYTES = 1024 * 1024 * 1024;

const chunkKey = (version: string, platform: string, index: number) =>
  `${AGENT_RELEASE_PREFIX}${version}/${platform}/${String(index).padStart(5, '0')}`;

export interface AgentReleaseServiceDeps {
  repo: AgentReleaseRepository;
  store: BlobStore;
}

export function createAgentReleaseService({ repo, store }: AgentReleaseServiceDeps) {
  const notFound = (what: string) => new GatewayError(GatewayErrorCode.notFound, what);

  async function requireRelease(version: string) {
    const release = await repo.release(version);
    if (!release) throw notFound(`no agent release ${version} is registered`);
    return release;
  }

  const service = {
    async register(input: { version: string; sums: string; signature: string; notes?: string }, actor: string) {
      if (!AGENT_PLATFORMS.some((p) => expectedSha256(input.sums, agentExecutableName(p))))
        throw new GatewayError(
          GatewayErrorCode.badRequest,
          `the sums name no executable of a release (${AGENT_PLATFORMS.map(agentExecutableName).join(', ')}); send SHA256SUMS as ./vsc release agent wrote it`,
        );
      const created = await repo.createRelease({ ...input, createdBy: actor });
      if (!created) {
        const existing = await requireRelease(input.version);
        // Registering again without notes repeats the release; notes other than its own change it.
        const otherNotes = input.notes !== undefined && input.notes !== existing.notes;
        if (existing.sums !== input.sums || existing.signature !== input.signature || otherNotes)
          throw new GatewayError(
            GatewayErrorCode.conflict,
            `agent release ${input.version} is registered with other sums, signature or notes; a release is never changed, give the new one a new version`,
          );
      }
      return service.describe(input.version);
    },

    /** Stores an executable chunk by chunk; refuses bytes whose sha256 is not the one the sums name. */
    async upload(version: string, platform: AgentPlatform, body: AsyncIterable<Buffer>) {
      const release = await requireRelease(version);
      const fileName = agentExecutableName(platform);
      const expected = expectedSha256(release.sums, fileName);
      if (!expected) throw notFound(`the sums of agent release ${version} name no ${fileName}`);
      const hash = createHash('sha256');
      let size = 0;
      let chunks = 0;
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      const flush = async () => {
        await store.put(chunkKey(version, platform, chunks), Buffer.concat(pending));
        chunks += 1;
        pending = [];
        pendingBytes = 0;
      };
      for await (const piece of body) {
        size += piece.length;
        if (size > AGENT_RELEASE_MAX_BYTES)
          throw new GatewayError(
            GatewayErrorCode.badRequest,
            `an agent executable is at most ${AGENT_RELEASE_MAX_BYTES} bytes`,
          );
        hash.update(piece);
        pending.push(piece);
        pendingBytes += piece.length;
        while (pendingBytes >= AGENT_RELEASE_CHUNK_BYTES) {
          const all = Buffer.concat(pending);
          pending = [all.subarray(0, AGENT_RELEASE_CHUNK_BYTES)];
          pendingBytes = AGENT_RELEASE_CHUNK_BYTES;
          await flush();
          const rest = all.subarray(AGENT_RELEASE_CHUNK_BYTES);
          if (rest.length) {
            pending = [rest];
            pendingBytes = rest.length;
          }
        }
      }
      if (pendingBytes > 0) await flush();
      const sha256 = hash.digest('hex');
      if (sha256 !== expected)
        throw new GatewayError(
          GatewayErrorCode.badRequest,
          `the uploaded ${fileName} (${size} bytes) has sha256 ${sha256}, not ${expected} as the release's sums say`,
        );
      await repo.putFile({ version, platform, fileName, sha256, size, chunks });
      return service.describe(version);
    },

    async describe(version: string) {
      const release = await requireRelease(version);
      const files = (await repo.listReleases()).find((r) => r.version === version)?.files ?? [];
      return {
        version,
        createdBy: release.createdBy,
        createdAt: release.createdAt.toISOString(),
        files: files.map((f) => ({ platform: f.platform, fileName: f.fileName, sha256: f.sha256, size: f.size })),
      };
    },

    async list() {
      return {
        releases: (await repo.listReleases()).map((r) => ({
          version: r.version,
          createdBy: r.createdBy,
          createdAt: r.createdAt.toISOString(),
          files: r.files.map((f) => ({ platform: f.platform, fileName: f.fileName, sha256: f.sha256, size: f.size })),
        })),
      };
    },

    /**
     * What a tenant's people may approve: the releases with at least one executable, newest first,
     * with their platforms and notes. Never the sums or the signature: that is the agent's business.
     */
    async published() {
      return {
        releases: (await repo.listReleases())
          .filter((r) => r.files.length > 0)
          .map((r) => ({
            version: r.version,
            platforms: r.files.map((f) => f.platform).sort(),
            publishedAt: r.createdAt.toISOString(),
            notes: r.notes,
          })),
      };
    },

    async approval(tenantId: string) {
      const approved = await repo.approved(tenantId);
      return {
        tenantId,
        approved: approved
          ? {
              version: approved.version,
              approvedBy: approved.approvedBy,
              approvedAt: approved.approvedAt.toISOString(),
            }
          : null,
        available: (await repo.listReleases()).filter((r) => r.files.length > 0).map((r) => r.version),
      };
    },

    async approve(tenantId: string, version: string, actor: string) {
      const release = await repo.listReleases().then((all) => all.find((r) => r.version === version));
      if (!release) throw notFound(`no agent release ${version} is registered`);
      if (release.files.length === 0)
        throw new GatewayError(
          GatewayErrorCode.conflict,
          `agent release ${version} has no executable uploaded yet; the platform operator uploads them first`,
        );
      await repo.approve(tenantId, version, actor);
      return service.approval(tenantId);
    },

    async withdraw(tenantId: string) {
      await repo.withdraw(tenantId);
      return service.approval(tenantId);
    },

    /** What to offer an agent at its hello: its tenant's approved version, when it differs and fits its platform. */
    async offerFor(
      tenantId: string,
      hello: Pick<HelloFrame, 'agentVersion' | 'platform'>,
    ): Promise<AgentUpdateOffer | undefined> {
      if (!hello.platform) return undefined;
      const approved = await repo.approved(tenantId);
      if (!approved || approved.version === hello.agentVersion) return undefined;
      const file = await repo.file(approved.version, hello.platform);
      return file && { version: file.version, platform: hello.platform, sha256: file.sha256, size: file.size };
    },

    /** The signed sums of the version the tenant approved (another version reads as absent). */
    async agentSums(tenantId: string, version: string): Promise<AgentReleaseSums> {
      const approved = await repo.approved(tenantId);
      if (approved?.version !== version) throw notFound(`agent version ${version} is not the one this tenant approved`);
      const release = await requireRelease(version);
      return { version, sums: release.sums, signature: release.signature };
    },

    /** The executable of the version the tenant approved, as a stream of its chunks. */
    async agentFile(tenantId: string, version: string, platform: AgentPlatform) {
      const approved = await repo.approved(tenantId);
      if (approved?.version !== version) throw notFound(`agent version ${version} is not the one this tenant approved`);
      const file = await repo.file(version, platform);
      if (!file) throw notFound(`agent version ${version} has no ${platform} executable`);
      async function* chunks() {
        for (let i = 0; i < file!.chunks; i++) {
          const chunk = await store.get(chunkKey(version, platform, i));
          if (!chunk) throw new Error(`chunk ${i} of agent ${version} ${platform} is missing from the store`);
          yield chunk;
        }
      }
      return { size: file.size, stream: Readable.from(chunks()) };
    },
  };
  return service;
}
export type AgentReleaseService = ReturnType<typeof createAgentReleaseService>;

declare module 'fastify' {
  interface FastifyInstance {
    agentReleases: AgentReleaseService;
  }
}

export const agentReleaseServicePlugin = fp<{ service: AgentReleaseService }>(
  async (app, { service }) => void app.decorate('agentReleases', service),
  { name: 'agent-release-service', fastify: '5.x' },
);
