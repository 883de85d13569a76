import fp from 'fastify-plugin';
import { DefinitionRepositoryError, type DefinitionRepository, type Repositories } from '@vansales/metadata';
import {
  definitionJsonSchema,
  diffDefinitions,
  validateDefinition,
  type ApiAccess,
  type ApiOperationRef,
  type DefinitionVersion,
  type ValidationContext,
  type ValidationIssue,
} from '@vansales/definitions';
import { GatewayError, GatewayErrorCode } from '../errors';

/**
 * Asks a site whether its policy lists a table as writable (the agent's describe, issue 10's HTTP
 * part); 'unknown' when its agent is offline. Without it, destinations are not checked on save.
 */
export type DestinationWritable = (
  tenantId: string,
  connectorId: string,
  database: string,
  table: { schema?: string; name: string },
) => Promise<'yes' | 'no' | 'unknown'>;

/** A site column's type as its latest discovered schema spells it, or undefined when unknown (validation's columnType). */
export type SiteColumnType = (
  tenantId: string,
  connectorId: string,
  database: string,
  table: { schema?: string; name: string },
  column: string,
) => Promise<string | undefined>;

const notFound = (tenantId: string, id: string) =>
  new GatewayError(GatewayErrorCode.notFound, `definition ${id} not found in tenant ${tenantId}`);

/** The repository's refusals as the gateway's errors: the same 404 for "not yours" and "does not exist". */
function translate(err: unknown, tenantId: string, id: string): never {
  if (err instanceof DefinitionRepositoryError) {
    if (err.code === 'unknown-definition') throw notFound(tenantId, id);
    if (err.code === 'unknown-version') throw new GatewayError(GatewayErrorCode.notFound, err.message);
    throw new GatewayError(GatewayErrorCode.conflict, err.message);
  }
  throw err;
}

function refuse(issues: ValidationIssue[]): never {
  const errors = issues.filter((i) => i.severity === 'error');
  throw new GatewayError(
    GatewayErrorCode.invalidDefinition,
    `the definition has ${errors.length} error${errors.length === 1 ? '' : 's'}, first: ${errors[0]?.message ?? ''}`,
    { issues },
  );
}

/** Definitions: validation, immutable versions, diffs, publishing and archiving, all tenant-scoped. */
/** What follows a definition's publication and archival (its schedule triggers: definition-schedules.ts). */
export interface DefinitionLifecycle {
  published(version: DefinitionVersion): Promise<unknown>;
  archived(tenantId: string, definitionId: string): Promise<unknown>;
}

/** Whether a tenant's registry has the API operation a step names (the SDK factory's artifact registry answers). */
export type ApiOperationLookup = (
  tenantId: string,
  ref: ApiOperationRef,
) => Promise<'ok' | 'unknown-api' | 'unknown-version' | 'unknown-operation'>;

/** Where a tenant's registered API can be reached from (undefined: none recorded). */
export type ApiAccessLookup = (tenantId: string, apiId: string) => Promise<ApiAccess | undefined>;

export interface DefinitionServiceDeps {
  repos: Repositories;
  definitions: DefinitionRepository;
  destinationWritable?: DestinationWritable;
  columnType?: SiteColumnType;
  lifecycle?: DefinitionLifecycle;
  apiOperation?: ApiOperationLookup;
  apiAccess?: ApiAccessLookup;
}

export function createDefinitionService(deps: DefinitionServiceDeps) {
  const { repos, definitions, destinationWritable, columnType, apiOperation, apiAccess } = deps;
  const contextFor = (tenantId: string): ValidationContext => ({
    connectorExists: async (connectorId) => !!(await repos.getConnector(tenantId, connectorId)),
    definitionExists: async (definitionId) => !!(await definitions.getDefinition(tenantId, definitionId)),
    ...(apiOperation ? { apiOperation: (ref) => apiOperation(tenantId, ref) } : {}),
    ...(apiAccess ? { apiAccess: (apiId) => apiAccess(tenantId, apiId) } : {}),
    ...(destinationWritable
      ? {
          destinationWritable: (connectorId, database, table) =>
            destinationWritable(tenantId, connectorId, database, table),
        }
      : {}),
    ...(columnType
      ? {
          columnType: (connectorId, database, table, column) =>
            columnType(tenantId, connectorId, database, table, column),
        }
      : {}),
  });
  const requireTenant = async (tenantId: string) => {
    if (!(await repos.getTenant(tenantId)))
      throw new GatewayError(GatewayErrorCode.notFound, `tenant ${tenantId} not found`);
  };
  const validated = async (tenantId: string, document: unknown) => {
    const result = await validateDefinition(document, contextFor(tenantId));
    if (!result.ok) refuse(result.issues);
    return result;
  };
  const version = async (tenantId: string, id: string, v: number) => {
    const found = await definitions.getVersion(tenantId, id, v);
    if (found) return found;
    if (!(await definitions.getDefinition(tenantId, id))) throw notFound(tenantId, id);
    throw new GatewayError(GatewayErrorCode.notFound, `definition ${id} has no version ${v}`);
  };

  return {
    /** Validates without saving: every issue, errors and warnings. */
    async validate(tenantId: string, document: unknown) {
      await requireTenant(tenantId);
      const result = await validateDefinition(document, contextFor(tenantId));
      return { ok: result.ok, issues: result.issues };
    },

    async create(tenantId: string, id: string, document: unknown, createdBy: string) {
      await requireTenant(tenantId);
      const { document: parsed, issues } = await validated(tenantId, document);
      try {
        return {
          ...(await definitions.createDefinition({ tenantId, id, document: parsed, createdBy })),
          warnings: issues,
        };
      } catch (err) {
        translate(err, tenantId, id);
      }
    },

    async list(tenantId: string) {
      await requireTenant(tenantId);
      return definitions.listDefinitions(tenantId);
    },

    async get(tenantId: string, id: string) {
      const found = await definitions.getDefinition(tenantId, id);
      if (!found) throw notFound(tenantId, id);
      return found;
    },

    /** A new version; the same content as an existing version answers that one (created: false). */
    async addVersion(tenantId: string, id: string, document: unknown, createdBy: string) {
      // 404 before validation: another tenant's id must not answer differently from a missing one.
      if (!(await definitions.getDefinition(tenantId, id))) throw notFound(tenantId, id);
      const { document: parsed, issues } = await validated(tenantId, document);
      try {
        return { ...(await definitions.addVersion(tenantId, id, parsed, createdBy)), warnings: issues };
      } catch (err) {
        translate(err, tenantId, id);
      }
    },

    async versions(tenantId: string, id: string) {
      if (!(await definitions.getDefinition(tenantId, id))) throw notFound(tenantId, id);
      return definitions.listVersions(tenantId, id);
    },

    version,

    async diff(tenantId: string, id: string, from: number, to: number) {
      const [a, b] = [await version(tenantId, id, from), await version(tenantId, id, to)];
      return { from: a.version, to: b.version, ...diffDefinitions(a.document, b.document) };
    },

    /** Publishing validates the version again: connectors and site policies may have changed since it was saved. */
    async publish(tenantId: string, id: string, v: number) {
      const stored = await version(tenantId, id, v);
      await validated(tenantId, stored.document);
      let published;
      try {
        published = await definitions.publish(tenantId, id, v);
      } catch (err) {
        translate(err, tenantId, id);
      }
      await deps.lifecycle?.published(stored);
      return published;
    },

    async archive(tenantId: string, id: string) {
      let archived;
      try {
        archived = await definitions.archive(tenantId, id);
      } catch (err) {
        translate(err, tenantId, id);
      }
      await deps.lifecycle?.archived(tenantId, id);
      return archived;
    },

    schema: definitionJsonSchema,
  };
}
export type DefinitionService = ReturnType<typeof createDefinitionService>;

declare module 'fastify' {
  interface FastifyInstance {
    definitions: DefinitionService;
  }
}

export const definitionServicePlugin = fp<DefinitionServiceDeps>(
  async (app, deps) => void app.decorate('definitions', createDefinitionService(deps)),
  {
    name: 'definition-service',
    fastify: '5.x',
  },
);
