import type { MetadataDb } from './open-database';

export interface AgentReleaseRow {
  version: string;
  sums: string;
  signature: string;
  createdBy: string;
  createdAt: Date;
  /** The operator's release notes (migration 0025); null when none were given. */
  notes: string | null;
}

export interface AgentReleaseFileRow {
  version: string;
  platform: string;
  fileName: string;
  sha256: string;
  size: number;
  chunks: number;
  uploadedAt: Date;
}

export interface TenantAgentVersion {
  version: string;
  approvedBy: string;
  approvedAt: Date;
}

/**
 * Agent releases, their executables and each tenant's approved version (migration 0022-agent-releases),
 * shared by every gateway node. Releases are global (the operator's); approvals are per tenant.
 */
export function createAgentReleaseRepository(db: MetadataDb) {
  const fileOf = (r: {
    version: string;
    platform: string;
    file_name: string;
    sha256: string;
    size: number | string;
    chunks: number;
    uploaded_at: Date;
  }): AgentReleaseFileRow => ({
    version: r.version,
    platform: r.platform,
    fileName: r.file_name,
    sha256: r.sha256,
    size: Number(r.size),
    chunks: r.chunks,
    uploadedAt: r.uploaded_at,
  });
  return {
    /** Registers a release; false when the version exists already (a release is never changed). */
    async createRelease(release: {
      version: string;
      sums: string;
      signature: string;
      createdBy: string;
      notes?: string;
    }) {
      const inserted = await db
        .insertInto('agent_releases')
        .values({
          version: release.version,
          sums: release.sums,
          signature: release.signature,
          created_by: release.createdBy,
          notes: release.notes ?? null,
        })
        .onConflict((oc) => oc.column('version').doNothing())
        .executeTakeFirst();
      return Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0;
    },
    async release(version: string): Promise<AgentReleaseRow | undefined> {
      const r = await db.selectFrom('agent_releases').selectAll().where('version', '=', version).executeTakeFirst();
      return (
        r && {
          version: r.version,
          sums: r.sums,
          signature: r.signature,
          createdBy: r.created_by,
          createdAt: r.created_at,
          notes: r.notes,
        }
      );
    },
    async listReleases(): Promise<Array<AgentReleaseRow & { files: AgentReleaseFileRow[] }>> {
      const releases = await db.selectFrom('agent_releases').selectAll().orderBy('created_at', 'desc').execute();
      const files = (await db.selectFrom('agent_release_files').selectAll().execute()).map(fileOf);
      return releases.map((r) => ({
        version: r.version,
        sums: r.sums,
        signature: r.signature,
        createdBy: r.created_by,
        createdAt: r.created_at,
        notes: r.notes,
        files: files.filter((f) => f.version === r.version),
      }));
    },
    /** Records an uploaded executable (replacing an earlier upload of the same file, whose chunks it overwrote). */
    async putFile(file: Omit<AgentReleaseFileRow, 'uploadedAt'>): Promise<void> {
      const values = {
        version: file.version,
        platform: file.platform,
        file_name: file.fileName,
        sha256: file.sha256,
        size: file.size,
        chunks: file.chunks,
      };
      await db
        .insertInto('agent_release_files')
        .values(values)
        .onConflict((oc) => oc.columns(['version', 'platform']).doUpdateSet({ ...values, uploaded_at: new Date() }))
        .execute();
    },
    async file(version: string, platform: string): Promise<AgentReleaseFileRow | undefined> {
      const r = await db
        .selectFrom('agent_release_files')
        .selectAll()
        .where('version', '=', version)
        .where('platform', '=', platform)
        .executeTakeFirst();
      return r && fileOf(r);
    },
    async approved(tenantId: string): Promise<TenantAgentVersion | undefined> {
      const r = await db
        .selectFrom('tenant_agent_versions')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .executeTakeFirst();
      return r && { version: r.version, approvedBy: r.approved_by, approvedAt: r.approved_at };
    },
    async approve(tenantId: string, version: string, approvedBy: string): Promise<void> {
      await db
        .insertInto('tenant_agent_versions')
        .values({ tenant_id: tenantId, version, approved_by: approvedBy })
        .onConflict((oc) =>
          oc.column('tenant_id').doUpdateSet({ version, approved_by: approvedBy, approved_at: new Date() }),
        )
        .execute();
    },
    /** Withdraws the tenant's approval: its agents stay on what they run. */
    async withdraw(tenantId: string): Promise<boolean> {
      const r = await db.deleteFrom('tenant_agent_versions').where('tenant_id', '=', tenantId).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
  };
}
export type AgentReleaseRepository = ReturnType<typeof createAgentReleaseRepository>;
