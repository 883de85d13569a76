import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { testServices } from '@vansales/test-kit';

/** Runs the scenario in its own process: the bug it guards against is an uncaught exception. */
function closeWhileRetryPending(mode: 'plain' | 'guarded') {
  const script = join(__dirname, 'support', 'close-after-retry.ts');
  return spawnSync(process.execPath, ['--import', 'tsx', script, testServices().temporalAddress, mode], {
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('a Temporal client connection closed while a retry is pending', () => {
  it('crashes the process with the SDK connection alone (the failure this guards against)', () => {
    const result = closeWhileRetryPending('plain');
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('Channel has been shut down');
  });

  it('ends the call with a rejected promise through connectTemporalClient, and the process lives on', () => {
    const result = closeWhileRetryPending('guarded');
    expect(result.stderr).not.toContain('Channel has been shut down');
    expect(result.stdout).toContain('rejected: 1 CANCELLED: the Temporal connection was closed');
    expect(result.status).toBe(0);
  });
});
