import {
  stepsUsingOperations,
  apiOperationUses,
  type ApiOperationUse,
  type DefinitionDocument,
} from '@vansales/definitions';
import type { ArtifactRegistry, BreakingChange, BreakingReport } from './registry';

/** The definitions a tenant has (the metadata store's DefinitionRepository fits). */
export interface DefinitionSource {
  listDefinitions(
    tenantId: string,
  ): Promise<{ id: string; status: string; latestVersion: number; publishedVersion?: number }[]>;
  getVersion(tenantId: string, id: string, version: number): Promise<{ document: DefinitionDocument } | undefined>;
}

export interface AffectedStep {
  stepId: string;
  /** e.g. `steps[2].http.operation` */
  path: string;
  stepKind: ApiOperationUse['stepKind'];
  operationKey: string;
  /** The API version the step is pinned to (it keeps running on it). */
  pinnedVersion: number;
  /** The changes of its operation, when computed against a target version. */
  changes?: BreakingChange[];
}
export interface DefinitionImpact {
  definitionId: string;
  version: number;
  /** The definition's latest version, its published one, or both. */
  latest: boolean;
  published: boolean;
  steps: AffectedStep[];
}

/** The latest and the published version of each active definition (one entry when they are the same). */
async function* definitionVersions(source: DefinitionSource, tenantId: string) {
  for (const d of await source.listDefinitions(tenantId)) {
    if (d.status !== 'active') continue;
    const versions = new Set([d.latestVersion, ...(d.publishedVersion !== undefined ? [d.publishedVersion] : [])]);
    for (const version of [...versions].sort((a, b) => b - a)) {
      if (version < 1) continue;
      const found = await source.getVersion(tenantId, d.id, version);
      if (found)
        yield {
          definitionId: d.id,
          version,
          latest: version === d.latestVersion,
          published: version === d.publishedVersion,
          document: found.document,
        };
    }
  }
}

const stepOf = (u: ApiOperationUse): AffectedStep => ({
  stepId: u.stepId,
  path: u.path,
  stepKind: u.stepKind,
  operationKey: u.operation.key,
  pinnedVersion: u.operation.version,
});

/**
 * For an API and a set of (breaking) operation keys: the definitions, in their latest and published
 * versions, whose steps call one of them, and which steps (optionally only steps pinned to one of `pinnedTo`).
 */
export async function findAffectedDefinitions(
  source: DefinitionSource,
  tenantId: string,
  apiId: string,
  operationKeys: Iterable<string>,
  pinnedTo?: Iterable<number>,
): Promise<DefinitionImpact[]> {
  const keys = [...operationKeys];
  const versions = pinnedTo ? [...pinnedTo] : undefined;
  const out: DefinitionImpact[] = [];
  for await (const d of definitionVersions(source, tenantId)) {
    const steps = stepsUsingOperations(d.document, apiId, keys, versions).map(stepOf);
    if (steps.length)
      out.push({ definitionId: d.definitionId, version: d.version, latest: d.latest, published: d.published, steps });
  }
  return out;
}

export interface UpgradeImpact {
  apiId: string;
  toVersion: number;
  definitions: (Omit<DefinitionImpact, 'steps'> & {
    /** Steps whose operation broke between their pinned version and `toVersion`: change these to upgrade. */
    mustChange: AffectedStep[];
    /** Steps on an older version whose operation did not break: moving them is a change of the version number. */
    canUpgrade: AffectedStep[];
  })[];
  /** The comparisons made, one per pinned version found. */
  reports: BreakingReport[];
}

/**
 * What moving to `toVersion` of an API means for the tenant's definitions. Existing definitions stay
 * on the version they pin (nothing here changes them); for each step pinned to an older version the
 * answer says whether its operation broke on the way (oasdiff between the pinned version and the
 * target) and so must change, or can simply be re-pinned.
 */
export async function upgradeImpact(
  registry: Pick<ArtifactRegistry, 'compare' | 'getVersion'>,
  source: DefinitionSource,
  tenantId: string,
  apiId: string,
  toVersion: number,
): Promise<UpgradeImpact> {
  const reports = new Map<number, Promise<BreakingReport>>();
  const report = (from: number) => {
    let r = reports.get(from);
    if (!r) reports.set(from, (r = registry.compare(tenantId, apiId, from, toVersion)));
    return r;
  };
  const definitions: UpgradeImpact['definitions'] = [];
  for await (const d of definitionVersions(source, tenantId)) {
    const older = apiOperationUses(d.document).filter(
      (u) => u.operation.apiId === apiId && u.operation.version < toVersion,
    );
    if (!older.length) continue;
    const mustChange: AffectedStep[] = [];
    const canUpgrade: AffectedStep[] = [];
    for (const use of older) {
      // A step pinned to a version that no longer exists is compared as best we can: not at all.
      if (!(await registry.getVersion(tenantId, apiId, use.operation.version))) {
        mustChange.push(stepOf(use));
        continue;
      }
      const r = await report(use.operation.version);
      const changes = r.changes.filter((c) => c.operationKey === use.operation.key && c.level !== 'info');
      if (changes.length) mustChange.push({ ...stepOf(use), changes });
      else canUpgrade.push(stepOf(use));
    }
    definitions.push({
      definitionId: d.definitionId,
      version: d.version,
      latest: d.latest,
      published: d.published,
      mustChange,
      canUpgrade,
    });
  }
  return { apiId, toVersion, definitions, reports: await Promise.all(reports.values()) };
}
