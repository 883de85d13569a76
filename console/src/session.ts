'use client';

/**
 * How a person is connected: the gateway URL and a bearer token, kept in sessionStorage (gone when
 * the tab closes; never a cookie, so it is sent to no server but the gateway). `kind` says where the
 * token came from: a sign-in (`session`: signing out ends it at the gateway) or a pasted token
 * (`token`: the admin token or an API token, which the console only forgets).
 */
export interface Session {
  gatewayUrl: string;
  token: string;
  kind: 'session' | 'token';
  /** Who signed in (sessions only), for the header. */
  email?: string;
}

const KEY = 'vsc.console.session';
/** A single sign-on in progress: which gateway and provider the console/sso page finishes with. */
const SSO_KEY = 'vsc.console.sso';

function readJson(key: string): Record<string, unknown> | undefined {
  if (typeof window === 'undefined') return undefined;
  try {
    const raw = window.sessionStorage.getItem(key);
    const parsed: unknown = raw ? JSON.parse(raw) : undefined;
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    // A damaged entry is the same as none: the person signs in again.
    return undefined;
  }
}

export function loadSession(): Session | undefined {
  const s = readJson(KEY);
  if (!s || typeof s.gatewayUrl !== 'string' || typeof s.token !== 'string') return undefined;
  return {
    gatewayUrl: s.gatewayUrl,
    token: s.token,
    kind: s.kind === 'session' ? 'session' : 'token',
    ...(typeof s.email === 'string' ? { email: s.email } : {}),
  };
}

/** Listeners (the header) hear about sign-in and sign-out in this tab: storage events fire only in others. */
const CHANGED = 'vsc-session-changed';

export function saveSession(session: Session): void {
  window.sessionStorage.setItem(KEY, JSON.stringify(session));
  window.dispatchEvent(new Event(CHANGED));
}

export function clearSession(): void {
  window.sessionStorage.removeItem(KEY);
  window.dispatchEvent(new Event(CHANGED));
}

export function onSessionChange(listener: () => void): () => void {
  window.addEventListener(CHANGED, listener);
  return () => window.removeEventListener(CHANGED, listener);
}

export interface PendingSso {
  gatewayUrl: string;
  provider: string;
}

export function savePendingSso(pending: PendingSso): void {
  window.sessionStorage.setItem(SSO_KEY, JSON.stringify(pending));
}

/** The single sign-on this tab started, used up: a callback is finished once. */
export function takePendingSso(): PendingSso | undefined {
  const p = readJson(SSO_KEY);
  window.sessionStorage.removeItem(SSO_KEY);
  if (!p || typeof p.gatewayUrl !== 'string' || typeof p.provider !== 'string') return undefined;
  return { gatewayUrl: p.gatewayUrl, provider: p.provider };
}

/** The gateway URL typed by a person, as an origin, or a sentence saying what is wrong with it. */
export function parseGatewayUrl(text: string): { origin: string } | { error: string } {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return { error: 'The gateway URL is not a URL: write it like https://gateway.example.com' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return { error: 'The gateway URL must start with https:// (or http:// on this machine)' };
  return { origin: url.origin };
}

/** Where a gateway probably is when none was used in this tab yet: the console's host, port 8080. */
export function defaultGatewayUrl(): string {
  return loadSession()?.gatewayUrl ?? window.location.origin.replace(/:\d+$/, ':8080');
}
