'use client';

/**
 * The connection a person made on the Connect page: gateway URL and bearer token, kept in
 * sessionStorage (gone when the tab closes; never a cookie, so it is sent to no server but the gateway).
 */
export interface Session {
  gatewayUrl: string;
  token: string;
}

const KEY = 'vsc.console.session';
const TENANTS_KEY = 'vsc.console.tenants';

export function loadSession(): Session | undefined {
  if (typeof window === 'undefined') return undefined;
  try {
    const raw = window.sessionStorage.getItem(KEY);
    const parsed: unknown = raw ? JSON.parse(raw) : undefined;
    if (parsed && typeof parsed === 'object' && 'gatewayUrl' in parsed && 'token' in parsed) {
      const { gatewayUrl, token } = parsed as Record<string, unknown>;
      if (typeof gatewayUrl === 'string' && typeof token === 'string') return { gatewayUrl, token };
    }
  } catch {
    // A damaged entry is the same as none: the person connects again.
  }
  return undefined;
}

export function saveSession(session: Session): void {
  window.sessionStorage.setItem(KEY, JSON.stringify(session));
}

export function clearSession(): void {
  window.sessionStorage.removeItem(KEY);
  window.sessionStorage.removeItem(TENANTS_KEY);
}

/** Tenants opened in this session (the gateway has no route that lists tenants yet). */
export function knownTenants(): string[] {
  try {
    const parsed: unknown = JSON.parse(window.sessionStorage.getItem(TENANTS_KEY) ?? '[]');
    return Array.isArray(parsed) ? parsed.filter((t): t is string => typeof t === 'string') : [];
  } catch {
    return [];
  }
}

export function rememberTenant(tenantId: string): void {
  const tenants = [tenantId, ...knownTenants().filter((t) => t !== tenantId)].slice(0, 20);
  window.sessionStorage.setItem(TENANTS_KEY, JSON.stringify(tenants));
}
