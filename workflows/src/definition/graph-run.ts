import { ApplicationFailure, condition } from '@temporalio/workflow';
import type { DatasetRef, StepId, StepOutput, StepRunStatus } from '@vansales/definitions';
import { DefinitionRunErrorType } from '@vansales/definitions/contracts';
import type { Graph, GraphStep } from './graph';

/** What a settled step lets through: its outgoing edges are marked from this. */
export type Outcome =
  | { kind: 'ok'; output: StepOutput }
  /** Failed with continueOnError: the `error` edges run (or, without any, the others as if it succeeded). */
  | { kind: 'error' }
  | { kind: 'skipped' };

/** The inputs of a step: its `left` (or only) dataset, a join's `right`, and every dataset (a merge's). */
export interface StepInputs {
  left?: DatasetRef;
  right?: DatasetRef;
  all: DatasetRef[];
}

/** A step stopped at a boundary (stop, continue-as-new): it is neither completed nor failed. */
export class Interrupted extends Error {
  constructor(readonly reason: 'stop' | 'continue-as-new') {
    super(reason);
  }
}

/** What a graph walk needs from the run around it (the workflow's state, signals and step runner). */
export interface RunHost {
  paused(): boolean;
  /** Stop or continue-as-new asked for: start nothing new. */
  halting(): boolean;
  status(key: string): StepRunStatus;
  now(): string;
  runStep(step: GraphStep, inputs: StepInputs, walk: GraphRun): Promise<StepOutput>;
  /** A step of this walk completed (the top-level walk keeps them for compensation). */
  completed(step: GraphStep, output: StepOutput): void;
  /** The step's value is refused past this size. */
  checkValue(step: GraphStep, output: StepOutput): void;
}

const edgeTaken = (state: 'pending' | 'taken' | 'skipped') => state === 'taken';

/**
 * One walk of a graph (the document, or one part of a for-each body). A step starts when every
 * incoming edge is settled and at least one was taken; with none taken it is skipped, and the skip
 * travels on. Ready steps start in document order and run concurrently (parallel fan-out is just
 * several taken edges); a failure (without continueOnError) stops new starts and fails the walk
 * once the running steps end.
 */
export class GraphRun {
  private readonly edgeState: ('pending' | 'taken' | 'skipped')[];
  private readonly started = new Set<StepId>();
  readonly outputs = new Map<StepId, StepOutput>();
  private inflight = 0;
  private failure: unknown;

  constructor(
    private readonly host: RunHost,
    readonly graph: Graph,
    /** Prefix of status keys (`<for-each id>/` in a body), empty at the top. */
    readonly prefix: string,
    /** The dataset the graph's entry steps read (a for-each part). */
    private readonly entry?: DatasetRef,
  ) {
    this.edgeState = graph.edges.map(() => 'pending');
  }

  key(id: StepId): string {
    return `${this.prefix}${id}`;
  }

  /** A step settled without running here (reused, or carried across continue-as-new). */
  settle(id: StepId, outcome: Outcome): void {
    this.started.add(id);
    if (outcome.kind === 'ok') this.outputs.set(id, outcome.output);
    const step = this.graph.steps.get(id)!;
    const out = this.graph.outgoing.get(id) ?? [];
    const hasErrorEdge = out.some((i) => this.graph.edges[i]!.when === 'error');
    for (const i of out) {
      const when = this.graph.edges[i]!.when;
      let taken: boolean;
      if (outcome.kind === 'skipped') taken = false;
      else if (outcome.kind === 'error') taken = hasErrorEdge ? when === 'error' : when !== 'error';
      else if (when === 'error') taken = false;
      else if (step.kind === 'branch' && (when === 'then' || when === 'else')) {
        const decision = (outcome.output.value as { condition?: boolean } | undefined)?.condition === true;
        taken = when === 'then' ? decision : !decision;
      } else taken = true;
      this.edgeState[i] = taken ? 'taken' : 'skipped';
    }
  }

  inputsOf(id: StepId): StepInputs {
    const incoming = this.graph.incoming.get(id) ?? [];
    if (incoming.length === 0) return this.entry ? { left: this.entry, all: [this.entry] } : { all: [] };
    const inputs: StepInputs = { all: [] };
    for (const i of incoming) {
      if (!edgeTaken(this.edgeState[i]!)) continue;
      const e = this.graph.edges[i]!;
      const dataset = this.outputs.get(e.from)?.dataset;
      if (!dataset) continue;
      inputs.all.push(dataset);
      if (e.port === 'right') inputs.right ??= dataset;
      else inputs.left ??= dataset;
    }
    return inputs;
  }

  private nextReady(): StepId | undefined {
    for (const id of this.graph.order) {
      if (this.started.has(id)) continue;
      const incoming = this.graph.incoming.get(id)!;
      if (incoming.every((i) => this.edgeState[i] !== 'pending')) return id;
    }
    return undefined;
  }

  private halted(): boolean {
    return this.failure !== undefined || this.host.halting();
  }

  async run(): Promise<void> {
    for (;;) {
      if (this.halted()) {
        await condition(() => this.inflight === 0);
        break;
      }
      if (this.host.paused()) {
        // Pause waits at the step boundary: running steps finish, nothing new starts.
        await condition(() => !this.host.paused() || this.halted());
        continue;
      }
      const id = this.nextReady();
      if (id !== undefined) {
        this.start(id);
        continue;
      }
      if (this.inflight === 0) break;
      await condition(
        () => this.inflight === 0 || this.halted() || this.host.paused() || this.nextReady() !== undefined,
      );
    }
    if (this.failure !== undefined) throw this.failure;
  }

  private start(id: StepId): void {
    this.started.add(id);
    const incoming = this.graph.incoming.get(id)!;
    const step = this.graph.steps.get(id)!;
    if (incoming.length > 0 && !incoming.some((i) => edgeTaken(this.edgeState[i]!))) {
      const st = this.host.status(this.key(id));
      st.state = 'skipped';
      this.settle(id, { kind: 'skipped' });
      return;
    }
    this.inflight++;
    void this.execute(step).finally(() => this.inflight--);
  }

  private async execute(step: GraphStep): Promise<void> {
    const st = this.host.status(this.key(step.id));
    st.state = 'running';
    st.startedAt = this.host.now();
    st.attempts = (st.attempts ?? 0) + 1;
    delete st.error;
    try {
      const output = await this.host.runStep(step, this.inputsOf(step.id), this);
      this.host.checkValue(step, output);
      st.state = 'completed';
      st.finishedAt = this.host.now();
      st.output = output;
      this.host.completed(step, output);
      this.settle(step.id, { kind: 'ok', output });
    } catch (err) {
      if (err instanceof Interrupted) {
        // Not settled: after continue-as-new the step runs on from its carried progress; after a stop it never ends.
        if (err.reason === 'stop') {
          st.state = 'skipped';
          st.error = 'the run was stopped while this step waited';
          st.finishedAt = this.host.now();
        }
        this.failure ??= err;
        return;
      }
      st.state = 'failed';
      st.finishedAt = this.host.now();
      st.error = describeFailure(err);
      if (step.onError?.continueOnError) this.settle(step.id, { kind: 'error' });
      else
        this.failure ??= ApplicationFailure.create({
          type: DefinitionRunErrorType.stepFailed,
          message: `step ${this.key(step.id)} failed: ${st.error}`,
          nonRetryable: true,
          cause: err instanceof Error ? err : undefined,
        });
    }
  }
}

/** A Temporal failure and its causes as one line (what the run status shows for a failed step). */
export function describeFailure(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  while (e && typeof e === 'object' && parts.length < 5) {
    const x = e as { message?: string; type?: string; cause?: unknown };
    if (x.message) parts.push(x.type ? `${x.type}: ${x.message}` : x.message);
    e = x.cause;
  }
  const text = parts.join(' <- ') || String(err);
  return text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
}
