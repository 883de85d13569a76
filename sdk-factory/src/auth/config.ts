import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseBufferKeys } from '@vansales/buffer';
import { checkPrivateFile, PrivatePathError } from '@vansales/protocol';
import { AuthError, AuthErrorCode } from './auth-error';
import { createLocalKeyWrapper, type KeyWrapper } from './key-wrapper';

const keySpec = z.string().superRefine((value, ctx) => {
  try {
    parseBufferKeys(value);
  } catch (err) {
    // parseBufferKeys names key ids only, never key material.
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

/**
 * Settings of the cloud credential store and the auth schemes, read from the environment once at
 * start-up (the gateway and the cloud worker extend their config with `AuthSettings.shape`).
 */
export const AuthSettings = z.object({
  /**
   * Master keys of the credential store: `<id>:<base64 of 32 bytes>[,…]` (the first wraps new data
   * keys, the others still unwrap; rotate by putting a new one first). No default; or use the file.
   */
  VSC_CREDENTIALS_KEYS: keySpec.optional(),
  /** A 0600 file holding the same as VSC_CREDENTIALS_KEYS (kept off the environment). No default. */
  VSC_CREDENTIALS_KEYS_FILE: z.string().min(1).optional(),
  /** Refresh an OAuth access token this many seconds before it expires (default 60). */
  VSC_OAUTH_REFRESH_SKEW_SECONDS: z.coerce.number().int().min(0).max(3600).default(60),
  /** How long an authorization code flow may take from start to callback, in seconds (default 600). */
  VSC_OAUTH_AUTHORIZATION_TTL_SECONDS: z.coerce.number().int().min(30).max(3600).default(600),
});
export type AuthSettings = z.infer<typeof AuthSettings>;

/** The local KeyWrapper of these settings; a KMS-backed deployment builds its own instead. */
export function localKeyWrapper(
  settings: Pick<AuthSettings, 'VSC_CREDENTIALS_KEYS' | 'VSC_CREDENTIALS_KEYS_FILE'>,
): KeyWrapper {
  if (settings.VSC_CREDENTIALS_KEYS && settings.VSC_CREDENTIALS_KEYS_FILE)
    throw new AuthError(AuthErrorCode.badInput, 'set VSC_CREDENTIALS_KEYS or VSC_CREDENTIALS_KEYS_FILE, not both');
  let spec = settings.VSC_CREDENTIALS_KEYS;
  const file = settings.VSC_CREDENTIALS_KEYS_FILE;
  if (file) {
    try {
      checkPrivateFile(file, 'VSC_CREDENTIALS_KEYS_FILE');
      spec = readFileSync(file, 'utf8').trim();
    } catch (err) {
      if (err instanceof PrivatePathError) throw new AuthError(AuthErrorCode.badInput, err.message);
      throw new AuthError(
        AuthErrorCode.badInput,
        `cannot read VSC_CREDENTIALS_KEYS_FILE ${file}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`,
      );
    }
  }
  if (!spec)
    throw new AuthError(
      AuthErrorCode.badInput,
      'the credential store needs VSC_CREDENTIALS_KEYS or VSC_CREDENTIALS_KEYS_FILE',
    );
  try {
    return createLocalKeyWrapper(parseBufferKeys(spec));
  } catch (err) {
    const where = file ? `VSC_CREDENTIALS_KEYS_FILE ${file}` : 'VSC_CREDENTIALS_KEYS';
    throw new AuthError(AuthErrorCode.badInput, `${where}: ${(err as Error).message}`);
  }
}
