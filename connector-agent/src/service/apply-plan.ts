import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describeStep, type ServiceStep } from './service-plan';

export interface ApplyOptions {
  /** Print the steps, do nothing. */
  dryRun: boolean;
  /**
   * Write files under this folder instead of `/` and run no program (a package build, or a test that
   * must not touch the machine's services): the programs are listed as not run.
   */
  root?: string;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  /** Runs a program, output to the user's terminal; the exit code. Injected by tests. */
  run?: (command: string[]) => number;
}

const runInherit = (command: string[]): number => {
  const result = spawnSync(command[0] as string, command.slice(1), { stdio: 'inherit', windowsHide: true });
  if (result.error) throw result.error;
  return result.status ?? 1;
};

/** Carries out the steps in order; the first failure stops, saying which step. Exit code 0 or 1. */
export function applyServicePlan(steps: ServiceStep[], options: ApplyOptions): number {
  const under = (path: string) => (options.root ? join(options.root, path) : path);
  for (const step of steps) {
    if (options.dryRun) {
      options.out.write(`would ${describeStep(step)}\n`);
      continue;
    }
    try {
      switch (step.kind) {
        case 'file':
          mkdirSync(dirname(under(step.path)), { recursive: true });
          writeFileSync(under(step.path), step.content, { mode: step.mode });
          break;
        case 'copy':
          mkdirSync(dirname(under(step.to)), { recursive: true });
          copyFileSync(step.from, under(step.to));
          break;
        case 'remove':
          rmSync(under(step.path), { force: true });
          break;
        case 'run': {
          if (options.root) {
            options.out.write(`not run under --root: ${describeStep(step).replace(/^run: /, '')}\n`);
            continue;
          }
          if (step.ifExists && !existsSync(step.ifExists)) continue;
          const code = (options.run ?? runInherit)(step.command);
          if (code !== 0 && !(step.okCodes ?? []).includes(code)) {
            options.err.write(`failed (exit ${code}): ${describeStep(step)}\n`);
            return 1;
          }
          break;
        }
      }
      if (step.kind !== 'run') options.out.write(`done: ${describeStep(step).split('\n')[0]}\n`);
    } catch (err) {
      options.err.write(`failed: ${describeStep(step).split('\n')[0]}: ${(err as Error).message}\n`);
      return 1;
    }
  }
  return 0;
}
