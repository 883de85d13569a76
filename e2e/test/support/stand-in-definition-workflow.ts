import { ApplicationFailure, condition, defineQuery, defineSignal, setHandler } from '@temporalio/workflow';
import {
  APPROVAL_SIGNAL,
  CONTROL_SIGNAL,
  RUN_STATUS_QUERY,
  type ApprovalSignal,
  type ControlSignal,
  type DefinitionRunInput,
  type DefinitionRunStatus,
} from '@vansales/definitions/contracts';

/**
 * A STAND-IN for the interpreter (i10-interp builds the real `definitionWorkflow`): registered under
 * the same name by the runs/flags/schedules tests only, it honours the contract the REST API relies
 * on and nothing more. It walks the steps in document order without running them: each completes
 * with a small value naming the step and the run's trigger, a `wait-for-signal` step waits for its
 * approval, the step named by `input.failAt` fails (except in a retry), reused outputs are taken as
 * they are; pause waits and stop ends at the next step boundary; it returns its status.
 */
export async function definitionWorkflow(input: DefinitionRunInput): Promise<DefinitionRunStatus> {
  const status: DefinitionRunStatus = { state: 'running', version: input.version, steps: {} };
  for (const step of input.document.steps) status.steps[step.id] = { state: 'pending' };
  // Widened: the signal handler changes it between awaits, which TypeScript's narrowing cannot see.
  let control = 'resume' as ControlSignal['action'];
  const approvals = new Map<string, boolean>();
  setHandler(defineQuery<DefinitionRunStatus>(RUN_STATUS_QUERY), () => status);
  setHandler(defineSignal<[ControlSignal]>(CONTROL_SIGNAL), (s) => void (control = s.action));
  setHandler(defineSignal<[ApprovalSignal]>(APPROVAL_SIGNAL), (s) => void approvals.set(s.stepId, s.approved));
  const failAt = (input.input as { failAt?: string } | undefined)?.failAt;

  for (const step of input.document.steps) {
    if (control === 'pause') {
      status.state = 'paused';
      await condition(() => control !== 'pause');
      status.state = 'running';
    }
    if (control === 'stop') {
      status.state = 'stopped';
      return status;
    }
    const reused = input.reuse?.[step.id];
    if (reused) {
      status.steps[step.id] = { state: 'completed', output: reused, route: 'reused from the failed run' };
      continue;
    }
    const s = status.steps[step.id]!;
    s.state = 'running';
    s.startedAt = new Date().toISOString();
    if (step.kind === 'wait-for-signal') {
      s.state = 'waiting';
      await condition(() => approvals.has(step.id));
    }
    if (step.id === failAt && input.trigger.kind !== 'retry') {
      s.state = 'failed';
      s.error = `step ${step.id} failed (stand-in)`;
      status.state = 'failed';
      throw ApplicationFailure.nonRetryable(`step ${step.id} failed`, 'StepFailed');
    }
    s.state = 'completed';
    s.finishedAt = new Date().toISOString();
    s.output = { value: { step: step.id, trigger: input.trigger.kind, approved: approvals.get(step.id) } };
  }
  status.state = 'completed';
  return status;
}
