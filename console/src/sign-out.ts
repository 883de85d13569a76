'use client';

import type { Connection } from './use-connection';
import { clearSession } from './session';

/**
 * Signs out: a sign-in's session is ended at the gateway (its token stops working at once), a pasted
 * token is only forgotten by this tab. The tab forgets the token whatever the gateway answers: a
 * person who asked to sign out is signed out here.
 */
export async function signOut({ client, session }: Connection): Promise<void> {
  if (client && session?.kind === 'session') await client.DELETE('/v1/sessions/current').catch(() => undefined);
  clearSession();
}
