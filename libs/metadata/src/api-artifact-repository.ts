import { sql, type Selectable } from 'kysely';
import type { ApiAccess } from '@vansales/definitions';
import type { MetadataDb } from './open-database';
import type { ApisTable } from './schema';

export type ApiArtifactKind = 'spec' | 'manifest' | 'bundle';

export interface ApiRow {
  tenantId: string;
  id: string;
  name: string;
  createdBy: string;
  createdAt: string;
  /** Where it can be reached from (migration 0016); absent when none was registered. */
  access?: ApiAccess;
}
export interface ApiArtifactRow {
  tenantId: string;
  sha256: string;
  kind: ApiArtifactKind;
  size: number;
  keyId: string;
  signature: string;
  createdBy: string;
  createdAt: string;
}
export interface ApiVersionRow {
  tenantId: string;
  apiId: string;
  version: number;
  specHash: string;
  manifestHash: string;
  sourceFormat: string;
  apiVersion: string;
  operationCount: number;
  createdBy: string;
  createdAt: string;
  /** role (`spec`, `manifest`, `bundle:<name>`) → sha256 */
  artifacts: Record<string, string>;
  /** Where the spec was fetched from (what "refresh" fetches again); absent for an uploaded text. */
  source?: ApiVersionSource;
}
export interface ApiVersionSource {
  url: string;
  /** The site whose agent fetched it (a URL on that site's network); absent: an internet URL the cloud fetched. */
  connectorId?: string;
}
const sourceOf = (r: { source_url: string | null; source_connector_id: string | null }) =>
  r.source_url
    ? { source: { url: r.source_url, ...(r.source_connector_id ? { connectorId: r.source_connector_id } : {}) } }
    : {};
export interface NewApiVersion {
  specHash: string;
  manifestHash: string;
  sourceFormat: string;
  apiVersion: string;
  operationCount: number;
  createdBy: string;
  source?: ApiVersionSource;
}

/** An `apis` row as the registry reads it: its accessibility only when one was recorded. */
function apiRow(tenantId: string, r: Selectable<ApisTable>): ApiRow {
  const accessibility = r.accessibility as ApiAccess['accessibility'] | null;
  const access: ApiAccess | undefined = accessibility
    ? {
        accessibility,
        ...(r.site_connector_id && r.site_api ? { site: { connectorId: r.site_connector_id, api: r.site_api } } : {}),
        ...(r.internet_base_url ? { internet: { baseUrl: r.internet_base_url } } : {}),
      }
    : undefined;
  return {
    tenantId,
    id: r.id,
    name: r.name,
    createdBy: r.created_by,
    createdAt: iso(r.created_at),
    ...(access ? { access } : {}),
  };
}

const UNIQUE_VIOLATION = '23505';
const MAX_ATTEMPTS = 5;
const iso = (d: Date) => new Date(d).toISOString();

/**
 * The artifact registry's metadata (migration 0012): APIs, their numbered versions and the signed,
 * content-addressed artifacts each version is made of. Every read and write is scoped to the tenant:
 * another tenant's API, version or hash reads as absent. Blobs live in the buffer's store; this only
 * records what they must hash to and who signed them.
 */
export function createApiArtifactRepository(db: MetadataDb) {
  async function getApi(tenantId: string, id: string): Promise<ApiRow | undefined> {
    const r = await db
      .selectFrom('apis')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
    return r && apiRow(tenantId, r);
  }

  async function getArtifact(tenantId: string, sha256: string): Promise<ApiArtifactRow | undefined> {
    const r = await db
      .selectFrom('api_artifacts')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('sha256', '=', sha256)
      .executeTakeFirst();
    return (
      r && {
        tenantId,
        sha256: r.sha256,
        kind: r.kind,
        size: Number(r.size),
        keyId: r.key_id,
        signature: r.signature,
        createdBy: r.created_by,
        createdAt: iso(r.created_at),
      }
    );
  }

  async function getVersion(tenantId: string, apiId: string, version: number): Promise<ApiVersionRow | undefined> {
    const r = await db
      .selectFrom('api_versions')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('api_id', '=', apiId)
      .where('version', '=', version)
      .executeTakeFirst();
    if (!r) return undefined;
    const links = await db
      .selectFrom('api_version_artifacts')
      .select(['role', 'sha256'])
      .where('tenant_id', '=', tenantId)
      .where('api_id', '=', apiId)
      .where('version', '=', version)
      .orderBy('role')
      .execute();
    return {
      tenantId,
      apiId,
      version: r.version,
      specHash: r.spec_hash,
      manifestHash: r.manifest_hash,
      sourceFormat: r.source_format,
      apiVersion: r.api_version,
      operationCount: r.operation_count,
      createdBy: r.created_by,
      createdAt: iso(r.created_at),
      artifacts: Object.fromEntries(links.map((l) => [l.role, l.sha256])),
      ...sourceOf(r),
    };
  }

  return {
    /** Creates the API when this tenant has none of that id; an existing one keeps its name. */
    async ensureApi(tenantId: string, id: string, name: string, createdBy: string): Promise<ApiRow> {
      await db
        .insertInto('apis')
        .values({ tenant_id: tenantId, id, name, created_by: createdBy })
        .onConflict((oc) => oc.columns(['tenant_id', 'id']).doNothing())
        .execute();
      return (await getApi(tenantId, id))!;
    },

    getApi,

    async listApis(tenantId: string): Promise<ApiRow[]> {
      const rows = await db.selectFrom('apis').selectAll().where('tenant_id', '=', tenantId).orderBy('id').execute();
      return rows.map((r) => apiRow(tenantId, r));
    },

    /** Records where an existing API can be reached from (replacing what was recorded). */
    async setAccess(tenantId: string, id: string, access: ApiAccess): Promise<void> {
      await db
        .updateTable('apis')
        .set({
          accessibility: access.accessibility,
          site_connector_id: access.site?.connectorId ?? null,
          site_api: access.site?.api ?? null,
          internet_base_url: access.internet?.baseUrl ?? null,
        })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .execute();
    },

    /** Records a stored artifact; the same hash again keeps the first record (its signature still holds). */
    async recordArtifact(tenantId: string, a: Omit<ApiArtifactRow, 'tenantId' | 'createdAt'>): Promise<ApiArtifactRow> {
      await db
        .insertInto('api_artifacts')
        .values({
          tenant_id: tenantId,
          sha256: a.sha256,
          kind: a.kind,
          size: a.size,
          key_id: a.keyId,
          signature: a.signature,
          created_by: a.createdBy,
        })
        .onConflict((oc) => oc.columns(['tenant_id', 'sha256']).doNothing())
        .execute();
      return (await getArtifact(tenantId, a.sha256))!;
    },

    getArtifact,

    /**
     * The next version of an API for a spec it does not have yet, or the version that already holds
     * that spec (`created: false`). The spec and manifest artifacts must be recorded first.
     */
    async addVersion(
      tenantId: string,
      apiId: string,
      v: NewApiVersion,
    ): Promise<{ version: ApiVersionRow; created: boolean }> {
      for (let attempt = 1; ; attempt++) {
        try {
          const outcome = await db.transaction().execute(async (trx) => {
            const existing = await trx
              .selectFrom('api_versions')
              .select('version')
              .where('tenant_id', '=', tenantId)
              .where('api_id', '=', apiId)
              .where('spec_hash', '=', v.specHash)
              .executeTakeFirst();
            if (existing) return { version: existing.version, created: false };
            const last = await trx
              .selectFrom('api_versions')
              .select(sql<number>`coalesce(max(version), 0)`.as('v'))
              .where('tenant_id', '=', tenantId)
              .where('api_id', '=', apiId)
              .executeTakeFirstOrThrow();
            const version = Number(last.v) + 1;
            await trx
              .insertInto('api_versions')
              .values({
                tenant_id: tenantId,
                api_id: apiId,
                version,
                spec_hash: v.specHash,
                manifest_hash: v.manifestHash,
                source_format: v.sourceFormat,
                api_version: v.apiVersion,
                operation_count: v.operationCount,
                created_by: v.createdBy,
                source_url: v.source?.url ?? null,
                source_connector_id: v.source?.connectorId ?? null,
              })
              .execute();
            await trx
              .insertInto('api_version_artifacts')
              .values([
                { tenant_id: tenantId, api_id: apiId, version, role: 'spec', sha256: v.specHash },
                { tenant_id: tenantId, api_id: apiId, version, role: 'manifest', sha256: v.manifestHash },
              ])
              .execute();
            return { version, created: true };
          });
          return { version: (await getVersion(tenantId, apiId, outcome.version))!, created: outcome.created };
        } catch (err) {
          // Two registrations raced for the same next version (or the same spec): look again.
          if ((err as { code?: string }).code !== UNIQUE_VIOLATION || attempt >= MAX_ATTEMPTS) throw err;
        }
      }
    },

    getVersion,

    async latestVersion(tenantId: string, apiId: string): Promise<ApiVersionRow | undefined> {
      const r = await db
        .selectFrom('api_versions')
        .select(sql<number>`max(version)`.as('v'))
        .where('tenant_id', '=', tenantId)
        .where('api_id', '=', apiId)
        .executeTakeFirst();
      return r?.v ? getVersion(tenantId, apiId, Number(r.v)) : undefined;
    },

    /** Every version, oldest first; empty for an API this tenant does not have. */
    async listVersions(tenantId: string, apiId: string): Promise<Omit<ApiVersionRow, 'artifacts'>[]> {
      const rows = await db
        .selectFrom('api_versions')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('api_id', '=', apiId)
        .orderBy('version', 'asc')
        .execute();
      return rows.map((r) => ({
        tenantId,
        apiId,
        version: r.version,
        specHash: r.spec_hash,
        manifestHash: r.manifest_hash,
        sourceFormat: r.source_format,
        apiVersion: r.api_version,
        operationCount: r.operation_count,
        createdBy: r.created_by,
        createdAt: iso(r.created_at),
        ...sourceOf(r),
      }));
    },

    /** Adds (or replaces) an artifact of a version under a role such as `bundle:node`; spec and manifest are fixed. */
    async attachArtifact(tenantId: string, apiId: string, version: number, role: string, sha256: string) {
      if (role === 'spec' || role === 'manifest')
        throw new Error(`the ${role} of a version is fixed when it is registered: register a new version instead`);
      await db
        .insertInto('api_version_artifacts')
        .values({ tenant_id: tenantId, api_id: apiId, version, role, sha256 })
        .onConflict((oc) => oc.columns(['tenant_id', 'api_id', 'version', 'role']).doUpdateSet({ sha256 }))
        .execute();
    },
  };
}
export type ApiArtifactRepository = ReturnType<typeof createApiArtifactRepository>;
