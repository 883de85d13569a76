/**
 * The progress a previous attempt reported (Temporal heartbeat details, the agent's resumeFrom),
 * when it belongs to the same object or run; anything else starts afresh.
 */
export function resumeState<T extends object>(
  details: unknown,
  matches: (r: Partial<T>) => boolean,
): Partial<T> | undefined {
  if (!details || typeof details !== 'object') return undefined;
  const r = details as Partial<T>;
  return matches(r) ? r : undefined;
}
