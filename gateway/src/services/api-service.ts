import fp from 'fastify-plugin';
import { buildApi } from '@vansales/sdk-factory/build';
import { IngestError } from '@vansales/sdk-factory/ingest';
import {
  attachOperationBundles,
  hasOperationBundles,
  findAffectedDefinitions,
  isRegistryError,
  RegistryErrorCode,
  upgradeImpact,
  type ArtifactRegistry,
  type DefinitionSource,
} from '@vansales/sdk-factory/registry';
import type { ApiAccess } from '@vansales/definitions';
import type { Repositories } from '@vansales/metadata';
import { GatewayError, GatewayErrorCode } from '../errors';
import { requireConnector } from './ownership';
import type { SpecFetch } from './spec-fetch';

/**
 * API connectors (issue 11): a tenant registers an API's specification, the SDK factory validates it
 * and makes its manifest, the registry keeps it as a signed, numbered version; a new version is
 * compared with the one before it (oasdiff) and the answer names the definition steps that use an
 * operation that broke. Definitions stay on the version they pin.
 */
export interface ApiServiceDeps {
  registry: ArtifactRegistry;
  definitions: DefinitionSource;
  /** Fetches a specification from an internet URL through the egress guard (spec-fetch.ts). */
  fetchSpec?: SpecFetch;
  /** Asks a site's agent for a specification on the site's network (api.fetch-spec); set by the app. */
  fetchSiteSpec?: SiteSpecFetch;
  /** The tenants' connectors: a site accessibility names one of the tenant's own (set by the app). */
  repos?: Pick<Repositories, 'getConnector'>;
}

/** What a registration may say of where the API is reached (all optional: an API may have none). */
export interface AccessInput {
  accessibility?: ApiAccess['accessibility'];
  site?: { connectorId: string; api: string };
  internet?: { baseUrl: string };
}

/**
 * The accessibility a registration gives, checked whole before anything is fetched or built: each
 * kind names what it needs, and nothing it does not (a site for an internet-only API is a mistake
 * to say, not to ignore). Undefined when the registration gives none (the API keeps what it has).
 */
export function accessOf(input: AccessInput): ApiAccess | undefined {
  const { accessibility, site, internet } = input;
  const bad = (message: string) => new GatewayError(GatewayErrorCode.badRequest, message);
  if (!accessibility) {
    if (site || internet)
      throw bad('site and internet describe where the API is reached: give accessibility too (site, internet or both)');
    return undefined;
  }
  const needsSite = accessibility !== 'internet';
  const needsInternet = accessibility !== 'site';
  if (needsSite && !site)
    throw bad(
      `accessibility ${accessibility} needs site: { connectorId, api }: the connector whose agent reaches the API, and the API's name in that site's policy`,
    );
  if (needsInternet && !internet)
    throw bad(`accessibility ${accessibility} needs internet: { baseUrl }: the address the cloud calls it at`);
  if (!needsSite && site)
    throw bad('accessibility internet takes no site: say both when the API is also reached on a site');
  if (!needsInternet && internet)
    throw bad('accessibility site takes no internet address: say both when the cloud can reach it too');
  // Stored as text and shown in run details: control characters have no place in either.
  const hasControl = (text: string) => [...text].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f);
  if (site && hasControl(site.api))
    throw bad("site.api is the API's name in the site's policy: it has no control characters");
  if (internet && hasControl(internet.baseUrl))
    throw bad('internet.baseUrl has control characters: give the URL as the cloud calls it');
  if (internet && !/^https?:\/\//i.test(internet.baseUrl))
    throw bad(`internet.baseUrl must be an http or https URL, not ${JSON.stringify(internet.baseUrl.slice(0, 100))}`);
  return { accessibility, ...(site ? { site } : {}), ...(internet ? { internet } : {}) };
}

/** A specification at a URL on a site's network, fetched by that site's agent. */
export type SiteSpecFetch = (tenantId: string, connectorId: string, url: string) => Promise<SpecUpload>;

export interface SpecUpload {
  text: string;
  contentType?: string;
  /** Where the text came from, for relative server URLs; nothing is fetched from it here. */
  sourceUrl?: string;
}

/** The registry's and ingestion's refusals, as the gateway's contract. */
function toGatewayError(err: unknown): unknown {
  if (err instanceof IngestError) {
    // Every refusal of a document is the caller's to fix; `specError` says which (SPEC_INVALID, SPEC_LIMIT_EXCEEDED, …).
    return new GatewayError(GatewayErrorCode.badRequest, err.message, { specError: err.code, problems: err.problems });
  }
  if (isRegistryError(err)) {
    switch (err.code) {
      case RegistryErrorCode.notFound:
        return new GatewayError(GatewayErrorCode.notFound, err.message);
      case RegistryErrorCode.badInput:
        return new GatewayError(GatewayErrorCode.badRequest, err.message);
      case RegistryErrorCode.oasdiffUnavailable:
        return new GatewayError(GatewayErrorCode.unavailable, 'comparing versions is not available on this gateway');
      default:
        // Tampered or unverifiable artifacts, a failed oasdiff run: an operator's matter, never the caller's details.
        return new GatewayError(GatewayErrorCode.internal, 'the artifact registry could not answer');
    }
  }
  return err;
}

async function mapped<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw toGatewayError(err);
  }
}

export function createApiService(deps: ApiServiceDeps) {
  const { registry } = deps;
  const service = {
    /** Validates a specification and registers it as the API's next version (the same text again answers the existing one). */
    register: (
      tenantId: string,
      apiId: string,
      input: { spec: SpecUpload | { url: string; connectorId?: string }; name?: string } & AccessInput,
      actor: string,
    ) =>
      mapped(async () => {
        const access = accessOf(input);
        if (access?.site && deps.repos) await requireConnector(deps.repos, tenantId, access.site.connectorId);
        let spec: SpecUpload;
        // A fetched spec keeps where it came from: "refresh" fetches it again from there.
        const source =
          'url' in input.spec
            ? { url: input.spec.url, ...(input.spec.connectorId ? { connectorId: input.spec.connectorId } : {}) }
            : undefined;
        if ('url' in input.spec && input.spec.connectorId) {
          // A URL on a site's network: only that site's agent can reach it, under the site's rules.
          if (!deps.fetchSiteSpec)
            throw new GatewayError(GatewayErrorCode.badRequest, 'this gateway cannot ask agents for specifications');
          spec = await deps.fetchSiteSpec(tenantId, input.spec.connectorId, input.spec.url);
        } else if ('url' in input.spec) {
          if (!deps.fetchSpec)
            throw new GatewayError(
              GatewayErrorCode.badRequest,
              'this gateway does not fetch specifications: upload the text',
            );
          spec = await deps.fetchSpec(input.spec.url);
        } else spec = input.spec;
        // Validation, the manifest and the per-operation bundles in a worker thread with its own time and
        // memory bounds: a 13 MB specification takes seconds of CPU that the agents' sockets must not wait for.
        const { manifest, document, problems, bundles } = await buildApi(spec);
        const { version, created } = await registry.registerVersion(tenantId, {
          apiId,
          name: input.name,
          spec: document,
          manifest,
          createdBy: actor,
          ...(source ? { source } : {}),
        });
        if (access) await registry.setApiAccess(tenantId, apiId, access);
        // The sandbox-ready SDK (one bundle per operation) that definition steps run; a version
        // registered before bundles were built gets them when its specification is registered again.
        const keys = manifest.operations.map((o) => o.key);
        if (created || !hasOperationBundles(version, keys)) {
          await attachOperationBundles(registry, tenantId, apiId, version.version, bundles, actor);
        }
        let breaking;
        if (created && version.version > 1) {
          const report = await registry.compare(tenantId, apiId, version.version - 1, version.version);
          const affected = await findAffectedDefinitions(deps.definitions, tenantId, apiId, report.affectedOperations);
          breaking = { ...report, definitions: affected };
        }
        return {
          apiId,
          version: version.version,
          created,
          apiVersion: version.apiVersion,
          sourceFormat: version.sourceFormat,
          operationCount: version.operationCount,
          // Its accessibility, flat (`accessibility`, `site`, `internet`): what was given, else what it had.
          ...(access ?? (await registry.apiAccess(tenantId, apiId))),
          warnings: problems,
          changesFromPrevious: breaking,
        };
      }),

    list: (tenantId: string) => mapped(() => registry.listApis(tenantId)),

    versions: (tenantId: string, apiId: string) =>
      mapped(async () => {
        const versions = await registry.listVersions(tenantId, apiId);
        if (!versions.length)
          throw new GatewayError(GatewayErrorCode.notFound, `no API ${apiId}: register its specification first`);
        return versions;
      }),

    /** The step palette: each operation of one version, verified before it is read. */
    operations: (tenantId: string, apiId: string, version: number) =>
      mapped(async () => {
        const manifest = await registry.loadManifest(tenantId, apiId, version);
        return {
          apiId,
          version,
          title: manifest.title,
          servers: manifest.servers,
          securitySchemes: manifest.securitySchemes,
          operations: manifest.operations.map((o) => ({
            key: o.key,
            method: o.method,
            path: o.path,
            summary: o.summary,
            deprecated: o.deprecated,
            parameters: o.parameters.map((p) => ({ name: p.name, in: p.in, required: p.required })),
            hasBody: o.requestBody !== undefined,
            pagination: o.pagination?.kind,
          })),
        };
      }),

    /** What moving the tenant's definitions to `toVersion` means: the steps that must change, those that can be re-pinned. */
    upgradeImpact: (tenantId: string, apiId: string, toVersion: number) =>
      mapped(() => upgradeImpact(registry, deps.definitions, tenantId, apiId, toVersion)),

    compare: (tenantId: string, apiId: string, from: number, to: number) =>
      mapped(() => registry.compare(tenantId, apiId, from, to)),

    /**
     * One artifact of the agent's tenant, record and bytes as stored: the agent verifies both against
     * the keys it pinned. Another tenant's hash is as absent as one never registered.
     */
    agentArtifact: (tenantId: string, sha256: string) =>
      mapped(async () => {
        const found = await registry.storedArtifact(tenantId, sha256);
        if (!found) throw new GatewayError(GatewayErrorCode.notFound, `no artifact ${sha256} in this agent's tenant`);
        return found;
      }),

    /** The registry's public keys, which agents pin the first time they ask. */
    registryKeys: () => ({ keys: registry.publicKeys() }),

    /**
     * Fetches the latest version's specification again from where it came from (the internet URL, or
     * the site URL through that site's agent) and registers it: a new version only when the spec
     * changed, answered (with the breaking-change report) as register answers.
     */
    refresh: async (tenantId: string, apiId: string, actor: string) => {
      const latest = await mapped(() => registry.latestVersion(tenantId, apiId));
      if (!latest)
        throw new GatewayError(GatewayErrorCode.notFound, `no API ${apiId}: register its specification first`);
      if (!latest.source)
        throw new GatewayError(
          GatewayErrorCode.conflict,
          `version ${latest.version} of ${apiId} was uploaded as text, so there is nothing to fetch again: register its specification from a URL (with connectorId for a site URL), or upload the new text`,
        );
      return service.register(tenantId, apiId, { spec: latest.source }, actor);
    },
  };
  return service;
}
export type ApiService = ReturnType<typeof createApiService>;

declare module 'fastify' {
  interface FastifyInstance {
    apis: ApiService;
  }
}

export const apiServicePlugin = fp<ApiServiceDeps>(
  async (app, deps) => void app.decorate('apis', createApiService(deps)),
  {
    name: 'api-service',
    fastify: '5.x',
  },
);
