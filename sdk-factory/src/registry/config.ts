import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { parseTrustedKeys } from './signing';

/** The oasdiff release the registry runs: built from its Go module by `./vsc` (infra), pinned. */
export const OASDIFF_VERSION = 'v1.39.0';

const checkedSetting = (parse: (v: string) => unknown) =>
  z.string().superRefine((value, ctx) => {
    try {
      parse(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  });

/**
 * The registry's settings, read from the environment; the embedding process (gateway, cloud worker)
 * supplies the defaults that depend on where it keeps its state.
 */
export const RegistrySettings = z.object({
  /**
   * The factory's Ed25519 signing key (PKCS#8 PEM), made 0600 on first start when missing. No
   * default here: the embedding process supplies one beside its other keys.
   */
  VSC_REGISTRY_SIGNING_KEY_FILE: z.string().min(1).optional(),
  /**
   * Public keys also trusted when verifying (`<base64 of the SPKI DER>[,…]`): the previous key after
   * a rotation, or another factory node's key. The signing key's own public key is always trusted.
   */
  VSC_REGISTRY_TRUSTED_KEYS: checkedSetting(parseTrustedKeys).optional(),
  /**
   * The oasdiff binary. Default: the machine's build cache, where `./vsc` builds it
   * (`~/.cache/vansales-connect/bin/oasdiff-v1.39.0`; VSC_BIN_CACHE / XDG_CACHE_HOME move it).
   */
  VSC_OASDIFF_BIN: z.string().min(1).optional(),
});
export type RegistrySettings = z.infer<typeof RegistrySettings>;

export function loadRegistryConfig(env: NodeJS.ProcessEnv = process.env): RegistrySettings {
  const parsed = RegistrySettings.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`invalid artifact registry configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

/** Where the oasdiff binary is: VSC_OASDIFF_BIN, else the machine's build cache (the same rule as infra's binCacheDir). */
export function oasdiffBinaryPath(config: Pick<RegistrySettings, 'VSC_OASDIFF_BIN'>, env = process.env): string {
  if (config.VSC_OASDIFF_BIN) return config.VSC_OASDIFF_BIN;
  const cache = env.VSC_BIN_CACHE ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'vansales-connect', 'bin');
  return join(cache, `oasdiff-${OASDIFF_VERSION}`);
}
