/**
 * Many recorded runs of definitions at once (the runs list's tests and its page figure): rows in
 * the gateway's `definition_runs` (and `definition_run_connectors`) written by one INSERT … SELECT
 * over generate_series, as if the control plane had started them. They have no Temporal execution:
 * their statuses are ended ones (completed, failed, cancelled), which the list never asks Temporal
 * about again.
 */
export interface SeedRuns {
  tenantId: string;
  count: number;
  /** Run i belongs to definitions[i % length]. */
  definitions: string[];
  /** Run i names connectors[i % length] (none when empty). */
  connectors?: string[];
  /** The newest run's start; run i started i × spacingMs before it (spacingMs 0: all at one instant, ties). */
  newest?: Date;
  spacingMs?: number;
  /** Prefix of the workflow ids (def-<tenant>-<definition>-<prefix><i>). */
  prefix?: string;
}

/** The statements that seed them, for whatever client the caller holds (pg, or Kysely's CompiledQuery.raw). */
export function seedRunsStatements(o: SeedRuns): { text: string; values: unknown[] }[] {
  const prefix = o.prefix ?? 'seed';
  const newest = (o.newest ?? new Date()).toISOString();
  const spacing = o.spacingMs ?? 1000;
  // $1 tenant, $2 definitions, $3 count, $4 newest, $5 spacing ms, $6 prefix
  const series = `SELECT g,
      ($2::text[])[1 + (g % cardinality($2::text[]))] AS definition_id,
      $4::timestamptz - make_interval(secs => g * $5::double precision / 1000) AS created_at
    FROM generate_series(0, $3::int - 1) AS g`;
  const runs = {
    text: `INSERT INTO definition_runs
        (tenant_id, definition_id, version, workflow_id, run_key, trigger_kind, started_by, created_at, status, status_at)
      SELECT $1, s.definition_id, 1, 'def-' || $1 || '-' || s.definition_id || '-' || $6 || s.g, $6 || s.g,
        'manual', 'seed', s.created_at, (ARRAY['completed','failed','cancelled'])[1 + (s.g % 3)], s.created_at
      FROM (${series}) AS s`,
    values: [o.tenantId, o.definitions, o.count, newest, spacing, prefix],
  };
  if (!o.connectors?.length) return [runs];
  const links = {
    text: `INSERT INTO definition_run_connectors (tenant_id, workflow_id, connector_id)
      SELECT $1, 'def-' || $1 || '-' || s.definition_id || '-' || $6 || s.g, ($7::text[])[1 + (s.g % cardinality($7::text[]))]
      FROM (${series}) AS s`,
    values: [o.tenantId, o.definitions, o.count, newest, spacing, prefix, o.connectors],
  };
  return [runs, links];
}
