/** A run's or a step's state as a labelled badge; the colour is never the only sign (the word is there). */
export function StatusBadge({ status }: { status: string }) {
  const tone =
    status === 'completed'
      ? 'status-online'
      : status === 'failed' || status === 'timed_out' || status === 'terminated'
        ? 'status-failed'
        : status === 'running' || status === 'waiting'
          ? 'status-running'
          : 'status-offline';
  return <span className={`status ${tone}`}>{status.replace('_', ' ')}</span>;
}
