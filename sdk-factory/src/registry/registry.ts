import type { KeyObject } from 'node:crypto';
import type { BlobStore } from '@vansales/buffer';
import type { ApiAccess } from '@vansales/definitions';
import { canonicalJson } from '@vansales/definitions/hash';
import type {
  ApiArtifactKind,
  ApiArtifactRepository,
  ApiArtifactRow,
  ApiVersionRow,
  ApiVersionSource,
} from '@vansales/metadata';
import { OperationManifest, type HttpMethod } from '../manifest';
import { artifactBlobs, artifactKey, sha256Hex } from './artifact-store';
import type { OasdiffChange, OasdiffRunner } from './oasdiff';
import { RegistryError, RegistryErrorCode } from './registry-error';
import { publicKeyId, type ArtifactSigner, type ArtifactVerifier } from './signing';

const API_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const BUNDLE_NAME = /^[A-Za-z0-9._-]{1,128}$/;

export interface RegisterVersionInput {
  apiId: string;
  /** The API's display name when it is new (default: the manifest's title). */
  name?: string;
  /** The normalized OpenAPI 3.x document (ingestion converts Swagger 2.0 and resolves references). */
  spec: unknown;
  /** The manifest made from that document: its `specHash` must be the document's hash (see specHash). */
  manifest: unknown;
  createdBy: string;
  /** Where the spec was fetched from, recorded with a new version (what "refresh" fetches again). */
  source?: ApiVersionSource;
}

/** One change between two versions, with the manifest operation it affects. */
export interface BreakingChange {
  /** oasdiff's rule id, e.g. `api-path-removed-without-deprecation`. */
  id: string;
  text: string;
  level: 'error' | 'warning' | 'info';
  method?: HttpMethod;
  path?: string;
  /** The manifest key of the affected operation (the base version's, else the revision's); absent for a document-wide change. */
  operationKey?: string;
}
export interface BreakingReport {
  apiId: string;
  from: number;
  to: number;
  /** True when a change is breaking (level error) or potentially breaking (warning). */
  breaking: boolean;
  changes: BreakingChange[];
  /** The operation keys with a change, sorted. */
  affectedOperations: string[];
}

export interface ArtifactRegistryDeps {
  /** The buffer's store (openBufferStore): artifacts live under `artifacts/`, which never expires. */
  store: BlobStore;
  repo: ApiArtifactRepository;
  signer: ArtifactSigner;
  verifier: ArtifactVerifier;
  /** Needed only for compare(). */
  oasdiff?: OasdiffRunner;
  /** The public keys the registry trusts (its signer's and any configured): what agents pin. Default: the signer's. */
  publicKeys?: readonly KeyObject[];
}

const levelName = (level: number): BreakingChange['level'] => (level >= 3 ? 'error' : level === 2 ? 'warning' : 'info');

/**
 * The SDK factory's artifact registry (issue 11 item 4): APIs, their versions and the artifacts a
 * version is made of (the normalized spec, the manifest, SDK bundles), content-addressed (sha256),
 * signed by the factory (Ed25519) and verified before every use, stored in the buffer's store, all
 * scoped to a tenant.
 */
export function createArtifactRegistry(deps: ArtifactRegistryDeps) {
  const blobs = artifactBlobs(deps.store);

  /** Stores, signs and records an artifact; the same bytes again answer the existing record. */
  async function putArtifact(
    tenantId: string,
    kind: ApiArtifactKind,
    bytes: Buffer,
    createdBy: string,
  ): Promise<ApiArtifactRow> {
    const sha256 = await blobs.put(tenantId, bytes);
    const existing = await deps.repo.getArtifact(tenantId, sha256);
    if (existing) return existing;
    const { keyId, signature } = deps.signer.sign({ tenantId, kind, sha256, size: bytes.length });
    return deps.repo.recordArtifact(tenantId, { sha256, kind, size: bytes.length, keyId, signature, createdBy });
  }

  /** An artifact's bytes after both checks: its record's signature, and the bytes against the signed hash. */
  async function readArtifact(tenantId: string, sha256: string, kind?: ApiArtifactKind): Promise<Buffer> {
    const record = await deps.repo.getArtifact(tenantId, sha256);
    if (!record)
      throw new RegistryError(RegistryErrorCode.notFound, `no artifact ${sha256} in tenant ${tenantId}`, { sha256 });
    deps.verifier.verify({ tenantId, kind: record.kind, sha256, size: record.size }, record.keyId, record.signature);
    if (kind && record.kind !== kind)
      throw new RegistryError(RegistryErrorCode.badInput, `artifact ${sha256} is a ${record.kind}, not a ${kind}`);
    const bytes = await blobs.get(tenantId, sha256);
    if (bytes.length !== record.size)
      throw new RegistryError(
        RegistryErrorCode.tampered,
        `artifact ${sha256} has another size than it was signed with`,
      );
    return bytes;
  }

  async function requireVersion(tenantId: string, apiId: string, version: number): Promise<ApiVersionRow> {
    const found = await deps.repo.getVersion(tenantId, apiId, version);
    if (!found)
      throw new RegistryError(
        RegistryErrorCode.notFound,
        (await deps.repo.getApi(tenantId, apiId))
          ? `API ${apiId} has no version ${version}`
          : `no API ${apiId} in tenant ${tenantId}: register its specification first`,
        { apiId, version },
      );
    return found;
  }

  const parseJson = (bytes: Buffer, what: string): unknown => {
    try {
      return JSON.parse(bytes.toString('utf8'));
    } catch {
      throw new RegistryError(RegistryErrorCode.tampered, `${what} is not JSON`);
    }
  };

  async function loadSpec(tenantId: string, apiId: string, version: number): Promise<Record<string, unknown>> {
    const v = await requireVersion(tenantId, apiId, version);
    return parseJson(await readArtifact(tenantId, v.specHash, 'spec'), `the spec of ${apiId} v${version}`) as Record<
      string,
      unknown
    >;
  }

  async function loadManifest(tenantId: string, apiId: string, version: number): Promise<OperationManifest> {
    const v = await requireVersion(tenantId, apiId, version);
    const raw = parseJson(
      await readArtifact(tenantId, v.manifestHash, 'manifest'),
      `the manifest of ${apiId} v${version}`,
    );
    // Signed and hashed, but still parsed: a manifest of an older contract must fail here, not downstream.
    const parsed = OperationManifest.safeParse(raw);
    if (!parsed.success)
      throw new RegistryError(
        RegistryErrorCode.badInput,
        `the manifest of ${apiId} v${version} does not match the current manifest contract: register the API again`,
      );
    return parsed.data;
  }

  /**
   * An artifact's record and its bytes exactly as stored, NOT verified: for a consumer that verifies
   * both itself against keys it pinned (the agent), so that a changed store or record is caught where
   * the artifact is used. Undefined when the tenant has no such artifact (or its blob is gone).
   */
  async function storedArtifact(
    tenantId: string,
    sha256: string,
  ): Promise<{ record: ApiArtifactRow; bytes: Buffer } | undefined> {
    const record = await deps.repo.getArtifact(tenantId, sha256);
    if (!record) return undefined;
    const bytes = await deps.store.get(artifactKey(tenantId, sha256));
    return bytes ? { record, bytes } : undefined;
  }

  const publicKeys = (deps.publicKeys ?? [deps.signer.publicKey]).map((key) => ({
    keyId: publicKeyId(key),
    publicKey: key.export({ type: 'spki', format: 'der' }).toString('base64'),
  }));

  return {
    putArtifact,
    readArtifact,
    storedArtifact,
    /** The keys this registry signs and verifies with (`keyId`, base64 SPKI DER): what an agent pins. */
    publicKeys: () => publicKeys,
    loadSpec,
    loadManifest,

    /**
     * Registers a spec and its manifest as the API's next version (the API is created on first use),
     * or answers the version that already holds that spec (`created: false`).
     */
    async registerVersion(
      tenantId: string,
      input: RegisterVersionInput,
    ): Promise<{ version: ApiVersionRow; created: boolean }> {
      if (!API_ID.test(input.apiId))
        throw new RegistryError(
          RegistryErrorCode.badInput,
          `${JSON.stringify(input.apiId)} is not an API id: lower-case letters, digits and -, at most 63`,
        );
      const spec = input.spec as { openapi?: unknown } | null;
      if (
        typeof spec !== 'object' ||
        spec === null ||
        typeof spec.openapi !== 'string' ||
        !spec.openapi.startsWith('3.')
      )
        throw new RegistryError(
          RegistryErrorCode.badInput,
          'the spec is not a normalized OpenAPI 3.x document: ingest it first (Swagger 2.0 is converted there)',
        );
      const parsed = OperationManifest.safeParse(input.manifest);
      if (!parsed.success)
        throw new RegistryError(
          RegistryErrorCode.badInput,
          `the manifest is not an operation manifest: ${parsed.error.issues
            .slice(0, 3)
            .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
            .join('; ')}`,
        );
      const manifest = parsed.data;
      const specBytes = Buffer.from(canonicalJson(input.spec), 'utf8');
      const hash = sha256Hex(specBytes);
      if (manifest.specHash !== hash)
        throw new RegistryError(
          RegistryErrorCode.badInput,
          `the manifest was made from another document (its specHash is ${manifest.specHash}, the spec's is ${hash}): make the manifest from this spec`,
        );
      await deps.repo.ensureApi(tenantId, input.apiId, input.name ?? manifest.title, input.createdBy);
      const specRow = await putArtifact(tenantId, 'spec', specBytes, input.createdBy);
      const manifestRow = await putArtifact(
        tenantId,
        'manifest',
        Buffer.from(canonicalJson(manifest), 'utf8'),
        input.createdBy,
      );
      return deps.repo.addVersion(tenantId, input.apiId, {
        specHash: specRow.sha256,
        manifestHash: manifestRow.sha256,
        sourceFormat: manifest.sourceFormat,
        apiVersion: manifest.apiVersion,
        operationCount: manifest.operations.length,
        createdBy: input.createdBy,
        ...(input.source ? { source: input.source } : {}),
      });
    },

    /** Adds an SDK bundle to a version (`bundle:<name>`); the same name again replaces it. */
    async attachBundle(
      tenantId: string,
      apiId: string,
      version: number,
      name: string,
      bytes: Buffer,
      createdBy: string,
    ): Promise<ApiArtifactRow> {
      if (!BUNDLE_NAME.test(name))
        throw new RegistryError(
          RegistryErrorCode.badInput,
          `${JSON.stringify(name)} is not a bundle name (letters, digits, . _ -)`,
        );
      await requireVersion(tenantId, apiId, version);
      const row = await putArtifact(tenantId, 'bundle', bytes, createdBy);
      await deps.repo.attachArtifact(tenantId, apiId, version, `bundle:${name}`, row.sha256);
      return row;
    },

    /** A bundle of a version, verified. */
    async loadBundle(tenantId: string, apiId: string, version: number, name: string): Promise<Buffer> {
      const v = await requireVersion(tenantId, apiId, version);
      const sha256 = v.artifacts[`bundle:${name}`];
      if (!sha256) throw new RegistryError(RegistryErrorCode.notFound, `${apiId} v${version} has no bundle ${name}`);
      return readArtifact(tenantId, sha256, 'bundle');
    },

    /**
     * Whether a definition step's `operation` exists (the ValidationContext's `apiOperation` lookup):
     * the API, the pinned version, and the key in that version's (verified) manifest.
     */
    async operationStatus(
      tenantId: string,
      ref: { apiId: string; version: number; key: string },
    ): Promise<'ok' | 'unknown-api' | 'unknown-version' | 'unknown-operation'> {
      if (!(await deps.repo.getApi(tenantId, ref.apiId))) return 'unknown-api';
      if (!(await deps.repo.getVersion(tenantId, ref.apiId, ref.version))) return 'unknown-version';
      const manifest = await loadManifest(tenantId, ref.apiId, ref.version);
      return manifest.operations.some((o) => o.key === ref.key) ? 'ok' : 'unknown-operation';
    },

    getApi: (tenantId: string, apiId: string) => deps.repo.getApi(tenantId, apiId),
    /** Where an API can be reached from (its accessibility), undefined when none is recorded or there is no such API. */
    apiAccess: async (tenantId: string, apiId: string) => (await deps.repo.getApi(tenantId, apiId))?.access,
    /** Records where a registered API can be reached from (replacing what was recorded). */
    setApiAccess: (tenantId: string, apiId: string, access: ApiAccess) => deps.repo.setAccess(tenantId, apiId, access),
    listApis: (tenantId: string) => deps.repo.listApis(tenantId),
    getVersion: (tenantId: string, apiId: string, version: number) => deps.repo.getVersion(tenantId, apiId, version),
    latestVersion: (tenantId: string, apiId: string) => deps.repo.latestVersion(tenantId, apiId),
    listVersions: (tenantId: string, apiId: string) => deps.repo.listVersions(tenantId, apiId),

    /**
     * The breaking changes from one version to another (oasdiff on the two verified specs), each
     * mapped to the manifest operation it affects.
     */
    async compare(tenantId: string, apiId: string, from: number, to: number): Promise<BreakingReport> {
      if (!deps.oasdiff)
        throw new RegistryError(RegistryErrorCode.oasdiffUnavailable, 'this registry was opened without oasdiff');
      const [base, revision, baseManifest, revisionManifest] = await Promise.all([
        loadSpec(tenantId, apiId, from),
        loadSpec(tenantId, apiId, to),
        loadManifest(tenantId, apiId, from),
        loadManifest(tenantId, apiId, to),
      ]);
      const changes = mapToOperations(await deps.oasdiff.breaking(base, revision), baseManifest, revisionManifest);
      return {
        apiId,
        from,
        to,
        breaking: changes.some((c) => c.level !== 'info'),
        changes,
        affectedOperations: [...new Set(changes.flatMap((c) => (c.operationKey ? [c.operationKey] : [])))].sort(),
      };
    },
  };
}
export type ArtifactRegistry = ReturnType<typeof createArtifactRegistry>;

/**
 * oasdiff names an operation by method and path as the documents declare them; the manifest keys it
 * (operationId, else `METHOD /path`). The base version is asked first: a removed operation is only there.
 */
export function mapToOperations(
  changes: readonly OasdiffChange[],
  base: OperationManifest,
  revision: OperationManifest,
): BreakingChange[] {
  const index = new Map<string, string>();
  for (const m of [revision, base]) for (const op of m.operations) index.set(`${op.method} ${op.path}`, op.key);
  return changes.map((c) => {
    const method = c.operation?.toLowerCase() as HttpMethod | undefined;
    const key = method && c.path !== undefined ? index.get(`${method} ${c.path}`) : undefined;
    return {
      id: c.id,
      text: c.text,
      level: levelName(c.level),
      ...(method ? { method } : {}),
      ...(c.path !== undefined ? { path: c.path } : {}),
      ...(key ? { operationKey: key } : {}),
    };
  });
}
