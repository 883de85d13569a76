// Helpers for code-first users writing plain Temporal workflows: `site(connectorId)`, `cloud(tenantId)`.
export { site, cloud, type SiteOptions, type LoadTarget } from './placement-helpers';
