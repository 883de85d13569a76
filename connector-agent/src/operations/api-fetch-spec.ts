import { AgentErrorType, ApiFetchSpecInput, MAX_SITE_SPEC_BYTES, type ApiFetchSpecOutputT } from '@vansales/protocol';
import { confineTo, createHttpTransport } from '@vansales/dataflow';
import { SitePolicyError, type SitePolicyFile } from '../policy/site-policy';
import { OperationError, type OperationHandler } from './operation';
import { parseOrRefuse, toOperationError } from './data-support';
import { resolveOnSite } from './site-resolve';

export interface ApiFetchSpecDeps {
  /** Read for every task, so an edit of the site's file applies at once. */
  policyFile(): SitePolicyFile;
  /** URL prefixes of the agent's config (`specFetch.allowedUrlPrefixes`) it may fetch besides the policy's APIs. */
  allowedUrlPrefixes: readonly string[];
  /** Default 30 s. */
  timeoutMs?: number;
}

const refused = (message: string) => new OperationError(AgentErrorType.egressRefused, message, false);

/** The rule that lets the agent GET `url`: the API of the site policy whose base URL and paths hold it, or a config prefix. */
function ruleFor(
  deps: ApiFetchSpecDeps,
  url: URL,
): { allowedBy: string; base: URL; prefixes: string[]; timeoutMs: number } {
  let file: SitePolicyFile;
  try {
    file = deps.policyFile();
  } catch (err) {
    if (err instanceof SitePolicyError) throw refused(err.message);
    throw err;
  }
  for (const [name, api] of Object.entries(file.apis)) {
    if (!(api.methods as string[]).includes('GET')) continue;
    const base = new URL(api.baseUrl);
    const root = base.pathname.endsWith('/') ? base.pathname : `${base.pathname}/`;
    const prefixes = api.paths.map((p) => `${root}${p.replace(/^\/+/, '')}`);
    try {
      confineTo(base, url, prefixes);
      return { allowedBy: name, base, prefixes, timeoutMs: api.timeoutMs };
    } catch {
      // Not this API's; try the next.
    }
  }
  for (const prefix of deps.allowedUrlPrefixes) {
    const base = new URL(prefix);
    try {
      confineTo(base, url, [base.pathname]);
      return { allowedBy: 'allowlist', base, prefixes: [base.pathname], timeoutMs: deps.timeoutMs ?? 30_000 };
    } catch {
      // Not under this prefix.
    }
  }
  throw refused(
    `${url.origin}${url.pathname} is neither under an API of the site policy (GET allowed) nor under specFetch.allowedUrlPrefixes of the agent's config: the site adds it there to let the cloud register it`,
  );
}

/**
 * `api.fetch-spec`: GETs an API specification on the site's network for the gateway to register.
 * Only what the site allows (its policy's APIs, or its allowlist), same-origin redirects under the
 * same rule, at most MAX_SITE_SPEC_BYTES, within the API's timeout. Sends no credential: a
 * specification that needs one is uploaded as text instead.
 */
export function createApiFetchSpec(deps: ApiFetchSpecDeps): OperationHandler {
  return async (raw, ctx) => {
    const input = parseOrRefuse(ApiFetchSpecInput, raw, 'api.fetch-spec');
    const url = new URL(input.url);
    const rule = ruleFor(deps, url);
    const send = createHttpTransport({
      check: (u) => void confineTo(rule.base, u, rule.prefixes),
      resolve: resolveOnSite,
      timeoutMs: rule.timeoutMs,
      maxResponseBytes: MAX_SITE_SPEC_BYTES,
    });
    try {
      const response = await send(
        { method: 'GET', url, headers: { accept: 'application/json, application/yaml, text/yaml, */*' } },
        ctx.signal,
      );
      if (response.status !== 200)
        throw new OperationError(
          AgentErrorType.httpFailed,
          `${url.origin}${url.pathname} answered ${response.status}, not a specification`,
          response.status >= 500 || response.status === 429,
        );
      const contentType = response.headers['content-type'];
      return {
        text: response.body.toString('utf8'),
        ...(typeof contentType === 'string' ? { contentType: contentType.slice(0, 200) } : {}),
        sourceUrl: response.url.toString(),
        allowedBy: rule.allowedBy,
      } satisfies ApiFetchSpecOutputT;
    } catch (err) {
      throw toOperationError(err, AgentErrorType.httpFailed);
    }
  };
}
