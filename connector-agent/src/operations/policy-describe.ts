import { AgentErrorType, PolicyDescribeInput, type PolicyDescribeOutputT } from '@vansales/protocol';
import { SitePolicyError, type SitePolicyFile } from '../policy/site-policy';
import { OperationError, type OperationHandler } from './operation';
import { parseOrRefuse } from './data-support';

/**
 * `policy.describe`: what the site's policy lets the cloud do, by name only (writable tables, API
 * names with their methods and path prefixes, the columns it masks, hashes or drops): validation
 * answers "destination not writable" from it, the router keeps transforms of protected rows on the
 * site. No base URL, no credential, no salt leaves the site.
 */
export function createPolicyDescribe(policyFile: () => SitePolicyFile): OperationHandler {
  return async (raw) => {
    parseOrRefuse(PolicyDescribeInput, raw ?? {}, 'policy.describe');
    let file: SitePolicyFile;
    try {
      file = policyFile();
    } catch (err) {
      if (err instanceof SitePolicyError) throw new OperationError(AgentErrorType.policyRefused, err.message, false);
      throw err;
    }
    return {
      writableTables: file.writableTables.map((w) => ({ database: w.database, table: w.table })),
      apis: Object.entries(file.apis).map(([name, api]) => ({ name, methods: api.methods, paths: api.paths })),
      // Names and actions only (no salt): the interpreter keeps transforms of these rows on the site.
      ...(file.columns.length
        ? {
            protectedColumns: file.columns.map((c) => ({
              database: c.database,
              table: c.table,
              column: c.column,
              action: c.action,
            })),
          }
        : {}),
    } satisfies PolicyDescribeOutputT;
  };
}
