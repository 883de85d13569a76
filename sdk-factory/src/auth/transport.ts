import { isIP } from 'node:net';
import { AuthError, AuthErrorCode } from './auth-error';

/** 127.0.0.0/8, ::1 and localhost: the only hosts a credential may reach over plain HTTP. */
export function isLoopback(url: URL): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

/** Refuses to send `what` over anything but HTTPS, except to loopback (a site's own or a test's server). */
export function requireSecureTransport(target: string | URL, what: string): URL {
  let url: URL;
  try {
    url = typeof target === 'string' ? new URL(target) : target;
  } catch {
    throw new AuthError(AuthErrorCode.badInput, `${what}: the target is not an absolute URL`);
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && isLoopback(url)) return url;
  throw new AuthError(
    AuthErrorCode.insecureTransport,
    `${what} is sent only over HTTPS (or to a loopback address); ${url.protocol}//${url.host} was refused: use the API's https:// server`,
  );
}
