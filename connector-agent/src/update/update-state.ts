import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * The small file that records an update attempt (`update-state.json` beside the agent's config), so
 * that whatever process starts next knows what happened: a new version that was switched to but has
 * not connected yet (`switched`: its next start, if it did not confirm, goes back), what a trial run
 * proved (`trial`), and the versions refused or rolled back (`failed`: not tried again until the
 * tenant approves another). Written whole, through a temporary file and a rename.
 */
export const UPDATE_STATE_FILE = 'update-state.json';

const At = z.string().max(40);
export const UpdateState = z.object({
  switched: z
    .object({
      from: z.string().max(64),
      to: z.string().max(64),
      at: At,
      /** Starts of `to` since the switch; a second start that finds it unconfirmed rolls back. */
      starts: z.number().int().min(0),
    })
    .optional(),
  trial: z.object({ version: z.string().max(64), pid: z.number().int(), welcomedAt: At }).optional(),
  failed: z
    .array(z.object({ version: z.string().max(64), at: At, reason: z.string().max(2000) }))
    .max(20)
    .default([]),
  last: z
    .object({
      version: z.string().max(64),
      outcome: z.enum(['updated', 'refused', 'rolled-back']),
      at: At,
      reason: z.string().max(2000).optional(),
    })
    .optional(),
});
export type UpdateState = z.infer<typeof UpdateState>;

/** The state as written, or an empty one (missing or unreadable: nothing is in progress then). */
export function readUpdateState(path: string): UpdateState {
  try {
    return UpdateState.parse(JSON.parse(readFileSync(path, 'utf8')));
  } catch {
    return UpdateState.parse({});
  }
}

export function writeUpdateState(path: string, state: UpdateState): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(temporary, path);
}

/** Records a version that must not be tried again (the newest 20 are kept). */
export function withFailure(state: UpdateState, version: string, outcome: 'refused' | 'rolled-back', reason: string) {
  const at = new Date().toISOString();
  return {
    ...state,
    failed: [...state.failed.filter((f) => f.version !== version), { version, at, reason }].slice(-20),
    last: { version, outcome, at, reason },
  } satisfies UpdateState;
}
