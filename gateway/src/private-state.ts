import { chmodSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { IN_MEMORY_METADATA } from '@vansales/metadata';
import { checkPrivateFile, ensurePrivateDir } from '@vansales/protocol';
import type { GatewayConfig } from './config';

/**
 * The gateway's folders are created 0700 and its secret files must be 0600: checked before
 * anything is opened, and a folder or key open to other users stops the start with the chmod that
 * fixes it (the tenants' keys, bindings and buffer objects are nobody else's business).
 */
export function checkPrivateState(config: GatewayConfig): void {
  const state = config.VSC_GATEWAY_STATE_DIR;
  const embeddedMetadata = !config.DATABASE_URL && config.VSC_METADATA_DIR !== IN_MEMORY_METADATA;
  const localBuffer = config.VSC_BUFFER_STORE === 'local';
  const usesState =
    (embeddedMetadata && config.VSC_METADATA_DIR === join(state, 'metadata')) ||
    (localBuffer && config.VSC_BUFFER_DIR === join(state, 'buffer'));
  if (usesState) ensurePrivateDir(state, 'the gateway state folder (VSC_GATEWAY_STATE_DIR)');
  if (embeddedMetadata) {
    // PGlite leaves its folder 0750 (initdb's mode): a store this gateway made before it tightened
    // the folder after opening is ours to fix, not the operator's.
    const st = statSync(config.VSC_METADATA_DIR, { throwIfNoEntry: false });
    if (st?.isDirectory() && (st.mode & 0o777) === 0o750 && st.uid === process.getuid?.())
      chmodSync(config.VSC_METADATA_DIR, 0o700);
    ensurePrivateDir(config.VSC_METADATA_DIR, 'the metadata folder (VSC_METADATA_DIR)');
  }
  if (localBuffer) ensurePrivateDir(config.VSC_BUFFER_DIR, 'the buffer folder (VSC_BUFFER_DIR)');
  if (config.VSC_TLS_KEY_FILE) checkPrivateFile(config.VSC_TLS_KEY_FILE, 'the TLS private key (VSC_TLS_KEY_FILE)');
}
