import { createHash } from 'node:crypto';

// The sandbox-ready SDK of a version is one `bundle:<name>` artifact per operation. Bundle names are
// `[A-Za-z0-9._-]{1,128}` and operation keys are any text (`GET /pets/{id}`), so the name is derived
// from the key by one pure function that every side computes alike: no index artifact to keep in step.

/** Keys that are already valid names stay readable; never with a `.`, so they cannot meet a hashed name. */
const PLAIN_KEY = /^[A-Za-z0-9_-]{1,100}$/;

/** The bundle name of an operation key: the key itself when plain, else `op.<sha256 of the key, 40 hex>`. */
export function operationBundleName(key: string): string {
  return PLAIN_KEY.test(key) ? key : `op.${createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 40)}`;
}
