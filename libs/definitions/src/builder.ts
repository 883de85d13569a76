import type { z } from 'zod';
import {
  DEFINITION_FORMAT,
  type BranchStep,
  type CallStep,
  type DefinitionDocument,
  type DefinitionDocumentInput,
  type DestinationStep,
  type Edge,
  type Endpoint,
  type ForEachStep,
  type MergeStep,
  type SourceStep,
  type SyncStep,
  type TransformOp,
  type TransformStep,
  type Trigger,
  type WaitForSignalStep,
  type WaitStep,
} from './model';
import { validateDefinitionStructure, type ValidationIssue } from './validate';

/**
 * Code-first definitions (issue 10 item 6a): the same document the console draws, built in typed
 * code. Each step method adds a step and an edge from the step before it, so a straight pipeline
 * reads top to bottom; `after(id)` continues from another step, `branch` and `parallel` fork.
 * `build()` validates the document as the gateway will (without the platform's context) and
 * throws every issue at once.
 *
 *   defineIntegration('films to the warehouse')
 *     .source('extract', { db: { endpoint: siteDb('hq', 'sakila'), table: { name: 'film' } } })
 *     .transform('shape', { op: 'map', fields: { id: 'film_id', title: '$uppercase(title)' } })
 *     .to('load', { db: { endpoint: cloudDb('warehouse'), table: { name: 'film' }, keyColumns: ['id'] } })
 *     .build();
 */

type Settings<S extends z.ZodType> = Omit<z.input<S>, 'id' | 'kind'>;
type StepInput = DefinitionDocumentInput['steps'][number];
type BodyInput = z.input<typeof ForEachStep>['body'];

type EndpointOf<K extends Endpoint['kind']> = Extract<Endpoint, { kind: K }>;
export const siteDb = (connectorId: string, database: string): EndpointOf<'site-db'> => ({
  kind: 'site-db',
  connectorId,
  database,
});
export const cloudDb = (database: string): EndpointOf<'cloud-db'> => ({ kind: 'cloud-db', database });
export const siteApi = (connectorId: string, api: string): EndpointOf<'site-api'> => ({
  kind: 'site-api',
  connectorId,
  api,
});
export const httpApi = (baseUrl: string, credential?: string): EndpointOf<'http'> => ({
  kind: 'http',
  baseUrl,
  ...(credential ? { credential } : {}),
});

export class DefinitionBuildError extends Error {
  override name = 'DefinitionBuildError';
  constructor(readonly issues: ValidationIssue[]) {
    super(
      `the definition does not validate:\n${issues
        .filter((i) => i.severity === 'error')
        .map((i) => `  ${i.path || '(document)'}: ${i.message}`)
        .join('\n')}`,
    );
  }
}

/** The steps and edges of one graph (the document's, or a for-each body's). */
interface Graph {
  steps: StepInput[];
  edges: Edge[];
}

/** A position in a graph: the next step is connected from `cursor`. */
export class StepChain {
  protected constructor(
    protected readonly graph: Graph,
    protected cursor: { from: string; when?: Edge['when'] } | undefined,
  ) {}

  private add(step: StepInput, connect = true): this {
    this.graph.steps.push(step);
    if (connect && this.cursor)
      this.graph.edges.push({
        from: this.cursor.from,
        to: step.id,
        ...(this.cursor.when ? { when: this.cursor.when } : {}),
      });
    this.cursor = { from: step.id };
    return this;
  }

  /** A source starts a new line of steps (no edge into it). */
  source(id: string, settings: Settings<typeof SourceStep>): this {
    return this.add({ id, kind: 'source', ...settings } as StepInput, false);
  }

  transform(
    id: string,
    transform: z.input<typeof TransformOp>,
    settings: Omit<Settings<typeof TransformStep>, 'transform'> = {},
  ): this {
    return this.add({ id, kind: 'transform', transform, ...settings } as StepInput);
  }

  /** A join of two earlier steps' datasets (ports left and right); the chain continues from it. */
  join(
    id: string,
    inputs: { left: string; right: string },
    join: Omit<Extract<z.input<typeof TransformOp>, { op: 'join' }>, 'op'>,
    settings: Omit<Settings<typeof TransformStep>, 'transform'> = {},
  ): this {
    this.graph.edges.push({ from: inputs.left, to: id, port: 'left' }, { from: inputs.right, to: id, port: 'right' });
    return this.add({ id, kind: 'transform', transform: { op: 'join', ...join }, ...settings } as StepInput, false);
  }

  /** A destination (`to` reads as where the data goes). */
  to(id: string, settings: Settings<typeof DestinationStep>): this {
    return this.add({ id, kind: 'destination', ...settings } as StepInput);
  }

  /** Runs `then` when the JSONata condition holds, else `otherwise`; each builds its own line from the branch. */
  branch(
    id: string,
    condition: string,
    paths: { then?: (chain: StepChain) => unknown; else?: (chain: StepChain) => unknown },
    settings: Omit<Settings<typeof BranchStep>, 'condition'> = {},
  ): this {
    this.add({ id, kind: 'branch', condition, ...settings } as StepInput);
    for (const when of ['then', 'else'] as const) paths[when]?.(new StepChain(this.graph, { from: id, when }));
    return this;
  }

  /** Fan-out: each line runs concurrently from here. The chain stays at the parallel step. */
  parallel(id: string, ...lines: ((chain: StepChain) => unknown)[]): this {
    this.add({ id, kind: 'parallel' });
    for (const line of lines) line(new StepChain(this.graph, { from: id }));
    return this;
  }

  /** Fan-in of earlier steps' datasets; the chain continues from the merge. */
  merge(id: string, from: string[], settings: Settings<typeof MergeStep> = {}): this {
    for (const f of from) this.graph.edges.push({ from: f, to: id });
    return this.add({ id, kind: 'merge', ...settings } as StepInput, false);
  }

  wait(id: string, settings: Settings<typeof WaitStep>): this {
    return this.add({ id, kind: 'wait', ...settings } as StepInput);
  }

  /** Waits for an approval signal naming this step. */
  waitForSignal(id: string, settings: Settings<typeof WaitForSignalStep> = {}): this {
    return this.add({ id, kind: 'wait-for-signal', ...settings } as StepInput);
  }

  /** Runs another definition of the tenant as a child run. */
  call(id: string, definitionId: string, settings: Omit<Settings<typeof CallStep>, 'definitionId'> = {}): this {
    return this.add({ id, kind: 'call', definitionId, ...settings } as StepInput);
  }

  /** Syncs two tables both ways (pattern 3.4.3); the chain continues from it (it outputs a summary, not a dataset). */
  sync(id: string, settings: Settings<typeof SyncStep>): this {
    return this.add({ id, kind: 'sync', ...settings } as StepInput);
  }

  /** Runs `body` once per batch or record of the incoming dataset; the body's first steps receive it. */
  forEach(id: string, settings: Omit<Settings<typeof ForEachStep>, 'body'>, body: (chain: StepChain) => unknown): this {
    const graph: Graph = { steps: [], edges: [] };
    body(new StepChain(graph, undefined));
    return this.add({ id, kind: 'for-each', ...settings, body: graph as BodyInput } as StepInput);
  }

  /** Continues from an earlier step (the next step gets an edge from it). */
  after(id: string, when?: Edge['when']): this {
    this.cursor = { from: id, ...(when ? { when } : {}) };
    return this;
  }

  /** Escape hatches: any step or edge as the model writes it. */
  step(step: StepInput, connect = true): this {
    return this.add(step, connect);
  }
  edge(edge: Edge): this {
    this.graph.edges.push(edge);
    return this;
  }
}

export class IntegrationBuilder extends StepChain {
  private description?: string;
  private readonly triggers: z.input<typeof Trigger>[] = [];

  constructor(private readonly name: string) {
    super({ steps: [], edges: [] }, undefined);
  }

  describe(description: string): this {
    this.description = description;
    return this;
  }

  /** Adds a trigger (without any, a definition is started by hand: `manual`). */
  trigger(trigger: z.input<typeof Trigger>): this {
    this.triggers.push(trigger);
    return this;
  }

  /** The document as written, not validated (what `build()` checks). */
  toJSON(): DefinitionDocumentInput {
    return {
      format: DEFINITION_FORMAT,
      name: this.name,
      ...(this.description !== undefined ? { description: this.description } : {}),
      ...(this.triggers.length ? { triggers: this.triggers } : {}),
      steps: this.graph.steps,
      edges: this.graph.edges,
    } as DefinitionDocumentInput;
  }

  /** The validated document, defaults applied; throws DefinitionBuildError with every issue. */
  build(): DefinitionDocument {
    const result = validateDefinitionStructure(this.toJSON());
    if (!result.ok) throw new DefinitionBuildError(result.issues);
    return result.document;
  }
}

export function defineIntegration(name: string): IntegrationBuilder {
  return new IntegrationBuilder(name);
}

// ---------------------------------------------------------------------------------------------------
// Publishing through the gateway's REST API.
// ---------------------------------------------------------------------------------------------------
export interface PublishOptions {
  /** The gateway's base URL, e.g. https://gateway.example.com */
  gatewayUrl: string;
  adminToken: string;
  tenantId: string;
  definitionId: string;
  document: DefinitionDocument | DefinitionDocumentInput;
  /** Publish the saved version (default) or only save it. */
  publish?: boolean;
  fetch?: typeof fetch;
}
export interface PublishResult {
  definitionId: string;
  version: number;
  hash: string;
  /** A new version was saved (false: the same content was already a version). */
  created: boolean;
  published: boolean;
}

export class PublishError extends Error {
  override name = 'PublishError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The validation issues when the gateway refused the document (422). */
    readonly issues: ValidationIssue[] = [],
  ) {
    super(message);
  }
}

/**
 * Saves a document as the definition's next version (creating the definition the first time) and
 * publishes it. Saving the same content again answers the existing version, so running a deploy
 * script twice changes nothing. The admin token travels only in the Authorization header.
 */
export async function publishDefinition(options: PublishOptions): Promise<PublishResult> {
  const doFetch = options.fetch ?? fetch;
  const base = `${options.gatewayUrl.replace(/\/+$/, '')}/v1/tenants/${encodeURIComponent(options.tenantId)}/definitions`;
  const id = encodeURIComponent(options.definitionId);
  const call = async <T>(method: 'GET' | 'POST', url: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const res = await doFetch(url, {
      method,
      headers: {
        authorization: `Bearer ${options.adminToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (res.status >= 400 && !(method === 'GET' && res.status === 404)) {
      const error = (parsed as { error?: { code?: string; message?: string; issues?: ValidationIssue[] } })?.error;
      throw new PublishError(
        res.status,
        error?.code ?? 'HTTP_ERROR',
        `${method} ${url.replace(options.gatewayUrl, '')} answered ${res.status}: ${error?.message ?? (text.slice(0, 200) || 'no body')}`,
        error?.issues ?? [],
      );
    }
    return { status: res.status, body: parsed as T };
  };

  type Saved = { version: { version: number; hash: string } };
  const existing = await call('GET', `${base}/${id}`);
  let saved: Saved;
  let created: boolean;
  if (existing.status === 404) {
    saved = (await call<Saved>('POST', base, { id: options.definitionId, document: options.document })).body;
    created = true;
  } else {
    const res = await call<Saved & { created: boolean }>('POST', `${base}/${id}/versions`, {
      document: options.document,
    });
    saved = res.body;
    created = res.body.created;
  }
  const publish = options.publish !== false;
  if (publish) await call('POST', `${base}/${id}/publish`, { version: saved.version.version });
  return {
    definitionId: options.definitionId,
    version: saved.version.version,
    hash: saved.version.hash,
    created,
    published: publish,
  };
}
