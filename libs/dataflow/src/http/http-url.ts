import { DataflowError, DataflowErrorCode } from '../errors';

const refused = (message: string) => new DataflowError(DataflowErrorCode.HTTP_REFUSED, message);

/**
 * A step's `path` under its endpoint's base URL. The path is relative, always: an absolute URL,
 * a scheme-relative `//host`, a backslash or a `..` segment (also percent-encoded) is refused,
 * so a definition cannot leave the API its endpoint names (on a site: the policy's API).
 */
export function urlUnder(base: URL, path: string): URL {
  if (/^[a-z][a-z0-9+.-]*:/i.test(path) || path.startsWith('//'))
    throw refused(`the path ${JSON.stringify(path.slice(0, 200))} is a URL; give a path under the endpoint's base URL`);
  if (path.includes('\\')) throw refused('the path contains a backslash');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(path)) throw refused('the path contains a control character');
  const [pathname = ''] = path.split(/[?#]/, 1);
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    throw refused('the path has a malformed percent-encoding');
  }
  if (decoded.split('/').some((s) => s === '..' || s === '.') || decoded.includes('\\'))
    throw refused(`the path ${JSON.stringify(path.slice(0, 200))} has a . or .. segment`);
  const root = base.pathname.endsWith('/') ? base.pathname : `${base.pathname}/`;
  const url = new URL(base.href);
  const [p, query] = path.replace(/^\/+/, '').split('?', 2) as [string, string | undefined];
  url.pathname = `${root}${p}`;
  url.search = query ? `?${query}` : base.search;
  url.hash = '';
  return confineTo(base, url, [root]);
}

/**
 * Checks a URL about to be called (the first, a cursor's, a Link header's, a redirect's): same
 * origin as the base (credentials are attached to every request, so another host would get them),
 * no user info, and a path under one of `prefixes`. Returns it unchanged, or throws HTTP_REFUSED.
 */
export function confineTo(base: URL, url: URL, prefixes: readonly string[]): URL {
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw refused(`only http and https are allowed, not ${url.protocol}`);
  if (url.origin !== base.origin)
    // The base's host is not named: on a site it is the site's business, and this error reaches the cloud.
    throw refused(`${url.origin} is not the endpoint's host; an HTTP step never leaves its API`);
  if (url.username || url.password) throw refused('a URL with user info is refused; name a credential instead');
  if (
    !prefixes.some(
      (prefix) =>
        url.pathname === prefix.replace(/\/$/, '') ||
        url.pathname.startsWith(prefix.endsWith('/') ? prefix : `${prefix}/`),
    )
  )
    throw refused(`${url.pathname} is outside the allowed paths (${prefixes.join(', ')})`);
  return url;
}
