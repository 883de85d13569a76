import { sql } from 'kysely';
import { DefinitionDocument, type DefinitionStore, type DefinitionVersion } from '@vansales/definitions';
import { definitionHash } from '@vansales/definitions/hash';
import type { MetadataDb } from './open-database';

export interface DefinitionSummary {
  tenantId: string;
  id: string;
  name: string;
  status: 'active' | 'archived';
  publishedVersion?: number;
  publishedAt?: string;
  latestVersion: number;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}
export interface DefinitionVersionSummary {
  version: number;
  hash: string;
  createdAt: string;
  createdBy: string;
  published: boolean;
}

export class DefinitionRepositoryError extends Error {
  override name = 'DefinitionRepositoryError';
  constructor(
    readonly code: 'exists' | 'unknown-definition' | 'unknown-version' | 'archived',
    message: string,
  ) {
    super(message);
  }
}

const UNIQUE_VIOLATION = '23505';
const MAX_ATTEMPTS = 5;
const iso = (d: Date | null | undefined) => (d ? new Date(d).toISOString() : undefined);

/**
 * Definitions and their immutable versions, every read and write scoped to the tenant (another
 * tenant's definition reads as absent). Documents are stored parsed (defaults applied) with their
 * content hash, so saving the same content again answers the version that holds it.
 * Callers validate documents first (validateDefinition): the store only parses them.
 */
export function createDefinitionRepository(db: MetadataDb) {
  const summaryQuery = (tenantId: string) =>
    db
      .selectFrom('definitions as d')
      .select([
        'd.tenant_id',
        'd.id',
        'd.name',
        'd.status',
        'd.published_version',
        'd.published_at',
        'd.created_by',
        'd.created_at',
        'd.updated_at',
        (eb) =>
          eb
            .selectFrom('definition_versions as v')
            .select(sql<number>`coalesce(max(v.version), 0)`.as('latest'))
            .whereRef('v.tenant_id', '=', 'd.tenant_id')
            .whereRef('v.definition_id', '=', 'd.id')
            .as('latest_version'),
      ])
      .where('d.tenant_id', '=', tenantId);
  type Row = Awaited<ReturnType<ReturnType<typeof summaryQuery>['executeTakeFirstOrThrow']>>;
  const summary = (r: Row): DefinitionSummary => ({
    tenantId: r.tenant_id,
    id: r.id,
    name: r.name,
    status: r.status,
    ...(r.published_version !== null
      ? { publishedVersion: r.published_version, publishedAt: iso(r.published_at) }
      : {}),
    latestVersion: Number(r.latest_version ?? 0),
    createdBy: r.created_by,
    createdAt: iso(r.created_at)!,
    updatedAt: iso(r.updated_at)!,
  });

  async function getDefinition(tenantId: string, id: string): Promise<DefinitionSummary | undefined> {
    const row = await summaryQuery(tenantId).where('d.id', '=', id).executeTakeFirst();
    return row && summary(row);
  }
  async function requireDefinition(tenantId: string, id: string): Promise<DefinitionSummary> {
    const found = await getDefinition(tenantId, id);
    if (!found) throw new DefinitionRepositoryError('unknown-definition', `no definition ${id} in tenant ${tenantId}`);
    return found;
  }

  async function getVersion(tenantId: string, id: string, version: number): Promise<DefinitionVersion | undefined> {
    const row = await db
      .selectFrom('definition_versions as v')
      .innerJoin('definitions as d', (j) =>
        j.onRef('d.tenant_id', '=', 'v.tenant_id').onRef('d.id', '=', 'v.definition_id'),
      )
      .select([
        'v.version',
        'v.hash',
        'v.document',
        'v.created_at',
        'v.created_by',
        'd.published_version',
        'd.published_at',
      ])
      .where('v.tenant_id', '=', tenantId)
      .where('v.definition_id', '=', id)
      .where('v.version', '=', version)
      .executeTakeFirst();
    return (
      row && {
        tenantId,
        definitionId: id,
        version: row.version,
        hash: row.hash,
        document: DefinitionDocument.parse(row.document),
        createdAt: iso(row.created_at)!,
        createdBy: row.created_by,
        ...(row.published_version === row.version ? { publishedAt: iso(row.published_at) } : {}),
      }
    );
  }

  /** Saves a document as the next version of a definition, or answers the version that already holds it. */
  async function saveVersion(
    tenantId: string,
    id: string,
    raw: unknown,
    createdBy: string,
  ): Promise<{ version: DefinitionVersion; created: boolean }> {
    const document = DefinitionDocument.parse(raw);
    const hash = definitionHash(document);
    for (let attempt = 1; ; attempt++) {
      try {
        const outcome = await db.transaction().execute(async (trx) => {
          const existing = await trx
            .selectFrom('definition_versions')
            .select('version')
            .where('tenant_id', '=', tenantId)
            .where('definition_id', '=', id)
            .where('hash', '=', hash)
            .executeTakeFirst();
          if (existing) return { version: existing.version, created: false };
          const last = await trx
            .selectFrom('definition_versions')
            .select(sql<number>`coalesce(max(version), 0)`.as('v'))
            .where('tenant_id', '=', tenantId)
            .where('definition_id', '=', id)
            .executeTakeFirstOrThrow();
          const version = Number(last.v) + 1;
          await trx
            .insertInto('definition_versions')
            .values({
              tenant_id: tenantId,
              definition_id: id,
              version,
              hash,
              document: JSON.stringify(document),
              created_by: createdBy,
            })
            .execute();
          // The definition is named by its latest document.
          await trx
            .updateTable('definitions')
            .set({ name: document.name, updated_at: new Date() })
            .where('tenant_id', '=', tenantId)
            .where('id', '=', id)
            .execute();
          return { version, created: true };
        });
        return { version: (await getVersion(tenantId, id, outcome.version))!, created: outcome.created };
      } catch (err) {
        // Two savers raced for the same next version (or the same content): the unique keys refused one; look again.
        if ((err as { code?: string }).code !== UNIQUE_VIOLATION || attempt >= MAX_ATTEMPTS) throw err;
      }
    }
  }

  return {
    /** Creates a definition with its first version. */
    async createDefinition(input: {
      tenantId: string;
      id: string;
      document: unknown;
      createdBy: string;
    }): Promise<{ definition: DefinitionSummary; version: DefinitionVersion }> {
      const document = DefinitionDocument.parse(input.document);
      try {
        await db
          .insertInto('definitions')
          .values({ tenant_id: input.tenantId, id: input.id, name: document.name, created_by: input.createdBy })
          .execute();
      } catch (err) {
        if ((err as { code?: string }).code === UNIQUE_VIOLATION)
          throw new DefinitionRepositoryError(
            'exists',
            `definition ${input.id} already exists: add a version to it instead (POST .../definitions/${input.id}/versions)`,
          );
        throw err;
      }
      const { version } = await saveVersion(input.tenantId, input.id, document, input.createdBy);
      return { definition: (await getDefinition(input.tenantId, input.id))!, version };
    },

    /** A new version; the same content as an existing version answers that one (`created: false`). */
    async addVersion(tenantId: string, id: string, document: unknown, createdBy: string) {
      const definition = await requireDefinition(tenantId, id);
      if (definition.status === 'archived')
        throw new DefinitionRepositoryError('archived', `definition ${id} is archived: it takes no new versions`);
      return saveVersion(tenantId, id, document, createdBy);
    },

    getDefinition,

    async listDefinitions(tenantId: string): Promise<DefinitionSummary[]> {
      return (await summaryQuery(tenantId).orderBy('d.id').execute()).map(summary);
    },

    /** Every version, oldest first, without the documents; empty when the definition is not this tenant's. */
    async listVersions(tenantId: string, id: string): Promise<DefinitionVersionSummary[]> {
      const definition = await getDefinition(tenantId, id);
      if (!definition) return [];
      const rows = await db
        .selectFrom('definition_versions')
        .select(['version', 'hash', 'created_at', 'created_by'])
        .where('tenant_id', '=', tenantId)
        .where('definition_id', '=', id)
        .orderBy('version', 'asc')
        .execute();
      return rows.map((r) => ({
        version: r.version,
        hash: r.hash,
        createdAt: iso(r.created_at)!,
        createdBy: r.created_by,
        published: r.version === definition.publishedVersion,
      }));
    },

    getVersion,

    /** Makes a version the one triggers run; runs in flight keep the version they started with. */
    async publish(tenantId: string, id: string, version: number): Promise<DefinitionSummary> {
      const definition = await requireDefinition(tenantId, id);
      if (definition.status === 'archived')
        throw new DefinitionRepositoryError('archived', `definition ${id} is archived: it cannot be published`);
      if (!(await getVersion(tenantId, id, version)))
        throw new DefinitionRepositoryError('unknown-version', `definition ${id} has no version ${version}`);
      await db
        .updateTable('definitions')
        .set({ published_version: version, published_at: new Date(), updated_at: new Date() })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .execute();
      return (await getDefinition(tenantId, id))!;
    },

    /** No new runs start from an archived definition; runs in flight continue. Archiving twice is a no-op. */
    async archive(tenantId: string, id: string): Promise<DefinitionSummary> {
      await requireDefinition(tenantId, id);
      await db
        .updateTable('definitions')
        .set({ status: 'archived', updated_at: new Date() })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .where('status', '=', 'active')
        .execute();
      return (await getDefinition(tenantId, id))!;
    },
  };
}
export type DefinitionRepository = ReturnType<typeof createDefinitionRepository>;

/** The DefinitionStore of the contracts (REST, triggers and the interpreter's child runs read it). */
export function createDefinitionStore(repo: DefinitionRepository): DefinitionStore {
  return {
    async published(tenantId, definitionId) {
      const definition = await repo.getDefinition(tenantId, definitionId);
      if (!definition || definition.status !== 'active' || definition.publishedVersion === undefined) return undefined;
      return repo.getVersion(tenantId, definitionId, definition.publishedVersion);
    },
    version: (tenantId, definitionId, version) => repo.getVersion(tenantId, definitionId, version),
    // Archiving is the definition's last change (an archived one takes no new version): updated_at is when.
    async archived(tenantId, definitionId) {
      const definition = await repo.getDefinition(tenantId, definitionId);
      return definition?.status === 'archived' ? { at: definition.updatedAt } : undefined;
    },
  };
}
