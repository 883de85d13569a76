import type { ServiceContext } from '../service';
import type { Supervisor } from '../supervisor';

/**
 * The stop of a foreground command (`vsc up`, `vsc topology`): Ctrl-C, SIGTERM and SIGHUP stop every
 * process it started and release its lock, once; a process that dies unexpectedly stops them all
 * with exit code 1, unless `survives(name)` says the command exists to outlive it (a topology's
 * gateway node).
 */
export function stopOnSignals(
  ctx: ServiceContext,
  supervisor: Supervisor,
  lock: { release: () => void },
  options: { parallel?: boolean; survives?: (name: string) => boolean } = {},
): (code: number) => Promise<void> {
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    ctx.log('stopping every process');
    await supervisor.stopAll({ parallel: options.parallel ?? false });
    lock.release();
    ctx.log('stopped');
    process.exit(code);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop(0));
  supervisor.onUnexpectedExit = (name, code) => {
    ctx.log(`${name} exited unexpectedly (code ${code}); see ${supervisor.logFile(name)}`);
    if (!options.survives?.(name)) void stop(1);
  };
  return stop;
}
