/**
 * Temporal patch ids of the interpreter's behaviour changes: a run started before a change replays
 * the old way (`patched()` is false in its history), new runs take the new one. Kept forever: the
 * recorded histories in workflows/test/histories hold runs of both sides.
 */
export const DefinitionPatch = {
  /**
   * `site-api` sources and destinations call the agent's `http.read` / `http.write`. Before, they
   * scheduled the cloud's httpRead/httpWrite on the connector queue, which no worker serves.
   */
  siteApiAgentOps: 'site-api-agent-ops',
  /** A site-db table source and a site-api destination on one connector run as ONE agent task. */
  siteDbToSiteApi: 'site-db-to-site-api',
  /** A webhook run's entry steps (no incoming edge) read the delivery's body dataset. */
  webhookBodyEntry: 'webhook-body-entry',
  /**
   * A transform that must stay on the site (rows the site's policy protects, or `placement: 'site'`)
   * runs as the agent's `data.transform` on the connector queue of the site that wrote its input.
   * Before, protected rows were refused at their source step, and `placement: 'site'` scheduled the
   * cloud's transformDataset on the connector queue, which no worker serves.
   */
  siteTransform: 'site-transform-agent-op',
  /**
   * The objects that must stay on their site are carried across continue-as-new. Before, the next
   * execution forgot them: a transform of a protected source settled before the continue-as-new
   * (e.g. after a long for-each) ran in the cloud's transformDataset.
   */
  carrySiteOnly: 'definition-carry-site-only',
} as const;
