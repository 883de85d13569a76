import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createRepositories,
  createCredentialRepository,
  openMetadataDb,
  type MetadataDb,
  type MetadataTarget,
} from '@vansales/metadata';
import { newBufferKeySpec, parseBufferKeys } from '@vansales/buffer';
import { createLocalKeyWrapper, createMetadataCredentialStore, type KeyWrapper } from '@vansales/sdk-factory/auth';

/** An embedded metadata store (PGlite in a temporary folder: its in-memory mode needs a dynamic import jest refuses) with tenants, and a local key wrapper over fresh keys. */
export async function credentialStoreFixture(
  tenants: string[],
  now: () => number = Date.now,
  target: MetadataTarget = { kind: 'pglite', dir: mkdtempSync(join(tmpdir(), 'vsc-credentials-')) },
) {
  const db: MetadataDb = await openMetadataDb(target);
  const repos = createRepositories(db);
  for (const id of tenants) await repos.upsertTenant({ id, name: id });
  const keySpec = newBufferKeySpec('k1');
  const wrapper: KeyWrapper = createLocalKeyWrapper(parseBufferKeys(keySpec));
  const repository = createCredentialRepository(db, now);
  const store = createMetadataCredentialStore({ repository, wrapper });
  return { db, repository, store, keySpec, wrapper };
}
