import { createHash } from 'node:crypto';
import { canonicalJson, writeCanonicalJson } from './canonical-json';
import { DefinitionDocument } from './model';

export { canonicalJson, writeCanonicalJson };

/**
 * The content hash of a definition version: sha256 (hex) of the canonical JSON of the PARSED
 * document, defaults applied, so a document that spells a default out and one that leaves it to
 * the schema are the same version, and key order or whitespace never make a new one.
 */
export function definitionHash(document: unknown): string {
  const parsed = DefinitionDocument.parse(document);
  return createHash('sha256').update(canonicalJson(parsed), 'utf8').digest('hex');
}
