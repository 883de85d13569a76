import type { z } from 'zod';
import { cronProblem } from './cron';
import { DefinitionDocument, HttpEndpoint, type ApiAccess, type ApiOperationRef } from './model';
import { accessibilityRefusal } from './routing';
import { readsWatchedTable } from './site-event';

/**
 * Validation of a definition document (issue 10 item 1): the schema (zod), the graph, and, through
 * an injected context, what only the platform knows (connectors, other definitions, the site's
 * policy). Every issue is reported, not the first: a workflow author fixes a document in one pass.
 * Each issue names the step and the field (`steps[3].db.table`) and says what to do.
 *
 * The graph and field checks read the raw document leniently, so they still run when the schema
 * already found problems (a bad field in one step does not hide a cycle elsewhere).
 */
export const ValidationIssueCode = {
  /** A field the schema refuses (wrong type, missing, unknown kind, out of range). */
  invalidField: 'invalid-field',
  duplicateStepId: 'duplicate-step-id',
  /** An edge names a step that does not exist. */
  danglingEdge: 'dangling-edge',
  cycle: 'cycle',
  /** No path from any starting step reaches it. */
  unreachableStep: 'unreachable-step',
  /** `when: then|else` on an edge that does not leave a branch step. */
  branchEdgeNotFromBranch: 'branch-edge-not-from-branch',
  /** An edge leaving a branch step says neither then nor else (nor error). */
  branchEdgeWithoutWhen: 'branch-edge-without-when',
  /** A branch step with no then and no else edge. */
  branchWithoutEdges: 'branch-without-edges',
  /** `when: error` from a step that does not continue on error (it would fail the run instead). */
  errorEdgeWithoutContinue: 'error-edge-without-continue',
  /** A join transform without exactly one `left` and one `right` input. */
  joinInputs: 'join-inputs',
  /** `port` on an edge into anything but a join transform. */
  portNotIntoJoin: 'port-not-into-join',
  /** A step that needs a dataset has no input edge. */
  missingInput: 'missing-input',
  /** A step that needs a dataset gets a value (a destination's summary, a child run's result) or nothing. */
  typeMismatch: 'type-mismatch',
  /** A source or destination without exactly one of db and http. */
  endpointOneOf: 'endpoint-one-of',
  /** A database source without exactly one of table and sql. */
  tableOrSql: 'table-or-sql',
  /** A read query on a database the cloud reaches (only the site's agent checks and runs SQL text). */
  sqlNotOnSiteDb: 'sql-not-on-site-db',
  /** A wait step without exactly one of duration and until. */
  waitOneOf: 'wait-one-of',
  /** A schedule trigger without exactly one of cron and every. */
  scheduleOneOf: 'schedule-one-of',
  invalidCron: 'invalid-cron',
  /** More than one webhook trigger (a definition has one webhook URL). */
  multipleWebhooks: 'multiple-webhooks',
  /** `onError.compensate` names no step of the definition (or the step itself). */
  unknownCompensateStep: 'unknown-compensate-step',
  /** A sync's last-writer-wins column is not among the columns it compares. */
  syncConflictColumn: 'sync-conflict-column',
  /** A merge step with one input (it merges nothing): a warning. */
  mergeSingleInput: 'merge-single-input',
  unknownConnector: 'unknown-connector',
  /** An HTTP step's `operation` names an API, version or operation key the registry does not have. */
  unknownApiOperation: 'unknown-api-operation',
  /** An HTTP step with neither an endpoint nor an operation (only an operation's API can be routed). */
  httpEndpointOrOperation: 'http-endpoint-or-operation',
  /**
   * An HTTP step whose placement the API's accessibility forbids (a cloud endpoint for a site-only
   * API...), or that leaves its endpoint to routing for an API with no accessibility recorded.
   */
  apiAccessibility: 'api-accessibility',
  /** A call step names a definition this tenant does not have. */
  unknownDefinition: 'unknown-definition',
  /** A site database destination the site's policy does not list as writable. */
  destinationNotWritable: 'destination-not-writable',
  /** The site could not be asked (its agent is offline): a warning, checked again when the run loads. */
  destinationWritableUnknown: 'destination-writable-unknown',
  /** A site-event trigger whose table no source step reads, so its runs never see the batch: a warning. */
  siteEventUnread: 'site-event-unread',
  /** An incremental source inside a for-each body: its cursor cannot be kept between runs. */
  incrementalInBody: 'incremental-in-for-each',
  /** A sync whose first key column is not an integer on a side whose schema is known: key ranges split on integers. */
  syncKeyNotInteger: 'sync-key-not-integer',
} as const;
export type ValidationIssueCode = (typeof ValidationIssueCode)[keyof typeof ValidationIssueCode];

export interface ValidationIssue {
  /** The step the issue is about (the innermost, for a step inside a for-each body). */
  stepId?: string;
  /** Where in the document, e.g. `steps[3].db.table` or `steps[2].body.edges[0].to`. */
  path: string;
  code: ValidationIssueCode;
  message: string;
  /** Errors refuse the document; warnings are reported beside an accepted one. */
  severity: 'error' | 'warning';
}

/** What only the platform knows, injected (the gateway wires its stores; tests pass plain functions). */
export interface ValidationContext {
  connectorExists?(connectorId: string): Promise<boolean> | boolean;
  /**
   * For HTTP steps that name a registered API operation: does this tenant's registry have that API,
   * that version of it, and that operation key in the version's manifest.
   */
  apiOperation?(
    ref: ApiOperationRef,
  ):
    | Promise<'ok' | 'unknown-api' | 'unknown-version' | 'unknown-operation'>
    | 'ok'
    | 'unknown-api'
    | 'unknown-version'
    | 'unknown-operation';
  /**
   * Where a registered API can be reached from (its accessibility), undefined when none is recorded:
   * an operation step's explicit endpoint must reach it, and one without an endpoint needs one.
   */
  apiAccess?(apiId: string): Promise<ApiAccess | undefined> | ApiAccess | undefined;
  /** For call steps: does this tenant have that definition. */
  definitionExists?(definitionId: string): Promise<boolean> | boolean;
  /**
   * Does the site's policy list the table as writable: 'unknown' when the site cannot be asked
   * (its agent is offline). Optional: without it nothing is checked.
   */
  destinationWritable?(
    connectorId: string,
    database: string,
    table: { schema?: string; name: string },
  ): Promise<'yes' | 'no' | 'unknown'> | 'yes' | 'no' | 'unknown';
  /**
   * A site database column's type as the site's latest discovered schema spells it (`varchar(50)`,
   * `bigint`), or undefined when unknown (never discovered, no such table). Optional.
   */
  columnType?(
    connectorId: string,
    database: string,
    table: { schema?: string; name: string },
    column: string,
  ): Promise<string | undefined> | string | undefined;
}

export type ValidationResult =
  | { ok: true; document: DefinitionDocument; /** warnings only */ issues: ValidationIssue[] }
  | { ok: false; issues: ValidationIssue[] };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const quote = (s: string) => JSON.stringify(s);

/** Checks a document without the platform's context: schema, fields and graph. */
export function validateDefinitionStructure(raw: unknown): ValidationResult {
  return finish(raw, structuralIssues(raw).issues);
}

/** Checks a document fully: schema, fields, graph, and the context's connectors, definitions and site policies. */
export async function validateDefinition(raw: unknown, ctx: ValidationContext = {}): Promise<ValidationResult> {
  const { issues, refs } = structuralIssues(raw);
  issues.push(...(await contextIssues(refs, ctx)));
  return finish(raw, issues);
}

function finish(raw: unknown, issues: ValidationIssue[]): ValidationResult {
  const errors = issues.filter((i) => i.severity === 'error');
  if (errors.length > 0) return { ok: false, issues };
  // No errors means the schema accepted it, so this parse succeeds (and applies the defaults).
  return { ok: true, document: DefinitionDocument.parse(raw), issues };
}

/** `steps[3].db.table`: array indexes in brackets, names after dots. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$-]*$/.test(key)) out += out ? `.${key}` : key;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

/** The id of the innermost step a path points into (`steps[2].body.steps[0]…` is the body step's). */
function stepIdAt(raw: unknown, path: readonly PropertyKey[]): string | undefined {
  let node: unknown = raw;
  let id: string | undefined;
  for (let i = 0; i < path.length; i++) {
    const key = path[i]!;
    node = isObj(node) ? node[key as string] : Array.isArray(node) ? node[key as number] : undefined;
    if (path[i - 1] === 'steps' && typeof key === 'number') id = isObj(node) ? (str(node.id) ?? id) : id;
  }
  return id;
}

function zodIssues(raw: unknown): ValidationIssue[] {
  const parsed = DefinitionDocument.safeParse(raw);
  if (parsed.success) return [];
  return parsed.error.issues.map((issue) => ({
    stepId: stepIdAt(raw, issue.path),
    path: formatPath(issue.path),
    code: ValidationIssueCode.invalidField,
    message: zodMessage(raw, issue),
    severity: 'error' as const,
  }));
}

/** zod's messages, made to say what to write where the default one does not. */
function zodMessage(raw: unknown, issue: z.core.$ZodIssue): string {
  const where = issue.path.length ? formatPath(issue.path) : 'the document';
  if (issue.code === 'invalid_union' && 'discriminator' in issue && issue.discriminator) {
    // zod 4 points at the discriminator itself (steps[2].kind); name the options of its object.
    const key = issue.discriminator;
    const base = issue.path[issue.path.length - 1] === key ? issue.path.slice(0, -1) : issue.path;
    const options = unionOptions(base);
    const given = valueAt(raw, [...base, key]);
    return `${formatPath([...base, key])}: ${key} ${given === undefined ? 'is missing' : `${JSON.stringify(given)} is not known`}${options ? `; it is one of ${options}` : ''}`;
  }
  if (issue.code === 'unrecognized_keys') return `${where}: unknown field(s) ${issue.keys.join(', ')}`;
  if (issue.code === 'invalid_type' && valueAt(raw, issue.path) === undefined)
    return `${where} is required (${issue.expected})`;
  return `${where}: ${issue.message}`;
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let node = raw;
  for (const key of path) node = isObj(node) || Array.isArray(node) ? (node as Obj)[key as string] : undefined;
  return node;
}

const STEP_KINDS = 'source, destination, transform, branch, parallel, merge, for-each, wait, wait-for-signal, call';
const TRIGGER_KINDS = 'manual, api, schedule, webhook, site-event';
function unionOptions(path: readonly PropertyKey[]): string | undefined {
  const parent = path[path.length - 2];
  if (parent === 'steps') return STEP_KINDS;
  if (parent === 'triggers') return TRIGGER_KINDS;
  const last = path[path.length - 1];
  if (last === 'transform') return 'map, filter, join, aggregate, dedupe, sort, coerce, script';
  if (last === 'endpoint') return 'site-db, cloud-db, site-api, http';
  if (last === 'pagination') return 'cursor, link-header, page';
  return undefined;
}

interface Refs {
  connectors: { connectorId: string; path: string; stepId?: string }[];
  definitions: { definitionId: string; path: string; stepId: string }[];
  /** `endpoint`: the step's explicit HTTP endpoint, when it gives a well-formed one. */
  apiOperations: { ref: ApiOperationRef; path: string; stepId?: string; endpoint?: HttpEndpoint | 'none' }[];
  destinations: {
    connectorId: string;
    database: string;
    table: { schema?: string; name: string };
    path: string;
    stepId: string;
  }[];
  /** The first key column of each site side of a sync step. */
  syncKeys: {
    connectorId: string;
    database: string;
    table: { schema?: string; name: string };
    column: string;
    path: string;
    stepId: string;
  }[];
}

function structuralIssues(raw: unknown): { issues: ValidationIssue[]; refs: Refs } {
  const issues = zodIssues(raw);
  const refs: Refs = { connectors: [], definitions: [], destinations: [], apiOperations: [], syncKeys: [] };
  if (!isObj(raw)) return { issues, refs };
  const add = (issue: Omit<ValidationIssue, 'severity'> & { severity?: ValidationIssue['severity'] }) =>
    issues.push({ severity: 'error', ...issue });

  // Step ids are unique across the whole document, bodies included: run status, retries and diffs name steps by id.
  const allIds = new Map<string, string>();
  const collectIds = (steps: unknown[], prefix: string) =>
    steps.forEach((s, i) => {
      if (!isObj(s)) return;
      const id = str(s.id);
      const path = `${prefix}steps[${i}]`;
      if (id !== undefined) {
        const first = allIds.get(id);
        if (first)
          add({
            stepId: id,
            path: `${path}.id`,
            code: ValidationIssueCode.duplicateStepId,
            message: `step id ${quote(id)} is already used by ${first}: give each step its own id`,
          });
        else allIds.set(id, path);
      }
      if (s.kind === 'for-each' && isObj(s.body)) collectIds(arr(s.body.steps), `${path}.body.`);
    });
  collectIds(arr(raw.steps), '');

  // A webhook run's entry steps read the delivery's body (a one-record dataset, column `body`).
  const hooked = arr(raw.triggers).some((t) => isObj(t) && t.kind === 'webhook');
  checkGraph(arr(raw.steps), arr(raw.edges), '', false, allIds, add, refs, hooked ? WEBHOOK_ENTRY : undefined);
  checkTriggers(arr(raw.triggers), arr(raw.steps), add, refs);
  return { issues, refs };
}

type Add = (issue: Omit<ValidationIssue, 'severity'> & { severity?: ValidationIssue['severity'] }) => void;
type Flow = { type: 'dataset' | 'value' | 'none' | 'unknown'; origin?: string; originKind?: string };

const NEEDS_DATASET = new Set(['destination', 'transform', 'merge', 'for-each']);
const PASSES_THROUGH = new Set(['branch', 'parallel', 'wait', 'wait-for-signal']);

/** What the entry steps (no input edge) of a graph read: a for-each body its batch, a webhook run its delivery. */
const BATCH_ENTRY = '(the batch)';
const WEBHOOK_ENTRY = '(the webhook delivery)';

function checkGraph(
  steps: unknown[],
  edges: unknown[],
  prefix: string,
  isBody: boolean,
  allIds: Map<string, string>,
  add: Add,
  refs: Refs,
  entry: string | undefined = isBody ? BATCH_ENTRY : undefined,
): void {
  // Past the schema's limits (reported by zod) the graph is not walked: a hostile document of tens
  // of thousands of chained steps would otherwise cost deep recursion for nothing.
  if (steps.length > (isBody ? 200 : 500) || edges.length > (isBody ? 1000 : 5000)) return;
  const byId = new Map<string, { step: Obj; path: string; kind?: string }>();
  steps.forEach((s, i) => {
    if (!isObj(s)) return;
    const id = str(s.id);
    const path = `${prefix}steps[${i}]`;
    if (id !== undefined && !byId.has(id)) byId.set(id, { step: s, path, kind: str(s.kind) });
    checkStepFields(s, id, path, allIds, add, refs);
    // A body runs once per part, each a reader of its own: one kept cursor cannot be the position
    // of them all (the highest skips rows a slower part has not read, the lowest reads rows again),
    // and the read does not depend on the part, so every part would read the same rows.
    if (isBody && s.kind === 'source' && isObj(s.db) && s.db.incremental !== undefined)
      add({
        stepId: id,
        path: `${path}.db.incremental`,
        code: ValidationIssueCode.incrementalInBody,
        message: `source ${quote(id ?? path)} reads incrementally inside a for-each body, where its cursor cannot be kept between runs (every part reads the same rows, each from its own position); read incrementally in a source before the for-each and let the for-each iterate over its rows`,
      });
    if (s.kind === 'for-each' && isObj(s.body))
      checkGraph(arr(s.body.steps), arr(s.body.edges), `${path}.body.`, true, allIds, add, refs);
  });

  // Edges: dangling ends, then the rules of when and port.
  interface E {
    from: string;
    to: string;
    when?: string;
    port?: string;
    path: string;
  }
  const valid: E[] = [];
  edges.forEach((e, j) => {
    if (!isObj(e)) return;
    const path = `${prefix}edges[${j}]`;
    const from = str(e.from);
    const to = str(e.to);
    let ok = from !== undefined && to !== undefined;
    for (const [end, id, other] of [
      ['from', from, to],
      ['to', to, from],
    ] as const) {
      if (id !== undefined && !byId.has(id)) {
        ok = false;
        const elsewhere = allIds.get(id);
        add({
          // The step the broken edge hangs from, when that end exists.
          stepId: other !== undefined && byId.has(other) ? other : undefined,
          path: `${path}.${end}`,
          code: ValidationIssueCode.danglingEdge,
          message: elsewhere
            ? `edge ${end} ${quote(id)}: that step is at ${elsewhere}, outside this graph; edges join steps of the same graph (a for-each body is its own graph)`
            : `edge ${end} ${quote(id)}: no step has that id; add the step or fix the edge`,
        });
      }
    }
    if (ok) valid.push({ from: from!, to: to!, when: str(e.when), port: str(e.port), path });
  });

  for (const e of valid) {
    const from = byId.get(e.from)!;
    const to = byId.get(e.to)!;
    if ((e.when === 'then' || e.when === 'else') && from.kind !== 'branch')
      add({
        stepId: e.from,
        path: `${e.path}.when`,
        code: ValidationIssueCode.branchEdgeNotFromBranch,
        message: `edge ${quote(e.from)} -> ${quote(e.to)} says when=${e.when}, but ${quote(e.from)} is a ${from.kind ?? 'step'}, not a branch: only a branch step's edges say then or else`,
      });
    if (from.kind === 'branch' && e.when === undefined)
      add({
        stepId: e.from,
        path: `${e.path}.when`,
        code: ValidationIssueCode.branchEdgeWithoutWhen,
        message: `edge ${quote(e.from)} -> ${quote(e.to)} leaves a branch step: say when it runs (when: "then" or "else")`,
      });
    if (e.when === 'error' && !(isObj(from.step.onError) && from.step.onError.continueOnError === true))
      add({
        stepId: e.from,
        path: `${e.path}.when`,
        code: ValidationIssueCode.errorEdgeWithoutContinue,
        message: `edge ${quote(e.from)} -> ${quote(e.to)} runs on error, but a failure of ${quote(e.from)} fails the run: set onError.continueOnError on ${quote(e.from)}`,
      });
    const intoJoin = to.kind === 'transform' && isObj(to.step.transform) && to.step.transform.op === 'join';
    if (e.port !== undefined && !intoJoin)
      add({
        stepId: e.to,
        path: `${e.path}.port`,
        code: ValidationIssueCode.portNotIntoJoin,
        message: `edge ${quote(e.from)} -> ${quote(e.to)} names port ${e.port}, but only a join transform has ports: remove it`,
      });
  }

  const incoming = new Map<string, E[]>();
  const outgoing = new Map<string, E[]>();
  for (const id of byId.keys()) {
    incoming.set(id, []);
    outgoing.set(id, []);
  }
  for (const e of valid) {
    incoming.get(e.to)!.push(e);
    outgoing.get(e.from)!.push(e);
  }

  for (const [id, { kind, step, path }] of byId) {
    if (kind === 'branch' && !outgoing.get(id)!.some((e) => e.when === 'then' || e.when === 'else'))
      add({
        stepId: id,
        path,
        code: ValidationIssueCode.branchWithoutEdges,
        message: `branch ${quote(id)} has no then or else edge: add the edges of what runs on each outcome`,
      });
    if (kind === 'transform' && isObj(step.transform) && step.transform.op === 'join') {
      const ins = incoming.get(id)!;
      const left = ins.filter((e) => e.port === 'left').length;
      const right = ins.filter((e) => e.port === 'right').length;
      const other = ins.length - left - right;
      if (left !== 1 || right !== 1 || other !== 0)
        add({
          stepId: id,
          path,
          code: ValidationIssueCode.joinInputs,
          message: `join ${quote(id)} needs exactly one input on port left and one on port right (it has ${left} left, ${right} right${other ? `, ${other} without a port` : ''})`,
        });
    }
  }

  // Cycles: depth-first, each loop named once, by the edge that closes it.
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const seen = new Set<string>();
  const visit = (id: string) => {
    state.set(id, 'open');
    stack.push(id);
    for (const e of outgoing.get(id)!) {
      if (state.get(e.to) === 'open') {
        const loop = [...stack.slice(stack.indexOf(e.to)), e.to];
        const key = [...loop.slice(0, -1)].sort().join(',');
        if (!seen.has(key)) {
          seen.add(key);
          add({
            stepId: e.to,
            path: e.path,
            code: ValidationIssueCode.cycle,
            message: `cycle ${loop.map(quote).join(' -> ')}: a definition is a graph without loops; to repeat steps, put them in a for-each body`,
          });
        }
      } else if (!state.has(e.to)) visit(e.to);
    }
    stack.pop();
    state.set(id, 'done');
  };
  for (const id of byId.keys()) if (!state.has(id)) visit(id);

  // Reachability from the starting steps (those without an input edge).
  const reached = new Set<string>();
  const queue = [...byId.keys()].filter((id) => incoming.get(id)!.length === 0);
  while (queue.length) {
    const id = queue.shift()!;
    if (reached.has(id)) continue;
    reached.add(id);
    for (const e of outgoing.get(id)!) queue.push(e.to);
  }
  for (const [id, { path }] of byId)
    if (!reached.has(id))
      add({
        stepId: id,
        path,
        code: ValidationIssueCode.unreachableStep,
        message: `step ${quote(id)} is unreachable: no starting step leads to it (it is only reached from within a loop); connect it from a step that runs`,
      });

  // Data flow: what each step passes on. Datasets come from sources, transforms and merges; a
  // destination, a child run and a for-each give a small value; branch, parallel and waits pass on their input.
  const memo = new Map<string, Flow>();
  const inflow = (id: string, busy: Set<string>): Flow => {
    const ins = incoming.get(id)!;
    if (ins.length === 0) return entry ? { type: 'dataset', origin: entry } : { type: 'none', origin: id };
    let result: Flow | undefined;
    for (const e of ins) {
      const f: Flow = e.when === 'error' ? { type: 'unknown' } : outflow(e.from, busy);
      if (f.type === 'unknown') return f;
      if (!result || (result.type === 'dataset' && f.type !== 'dataset')) result = f;
    }
    return result!;
  };
  const outflow = (id: string, busy: Set<string> = new Set()): Flow => {
    const known = memo.get(id);
    if (known) return known;
    if (busy.has(id)) return { type: 'unknown' }; // a cycle, reported above
    busy.add(id);
    const kind = byId.get(id)!.kind;
    let f: Flow;
    if (kind === 'source' || kind === 'transform' || kind === 'merge') f = { type: 'dataset', origin: id };
    else if (kind === 'destination' || kind === 'call' || kind === 'for-each' || kind === 'sync')
      f = { type: 'value', origin: id, originKind: kind };
    else if (kind && PASSES_THROUGH.has(kind)) f = inflow(id, busy);
    else f = { type: 'unknown' };
    busy.delete(id);
    memo.set(id, f);
    return f;
  };
  const VALUE_OF: Record<string, string> = {
    destination: 'the summary a destination outputs (what it wrote), not a dataset',
    call: "a child run's result, not a dataset",
    'for-each': "a for-each's summary, not a dataset",
    sync: "a sync's summary (rows copied and deleted each way), not a dataset",
  };
  // A compensating step is reached through `onError.compensate`, not an edge: it gets the input of the step it undoes.
  const compensators = new Set(
    [...byId.values()].map(({ step }) => (isObj(step.onError) ? str(step.onError.compensate) : undefined)),
  );
  for (const [id, { kind, path }] of byId) {
    if (!kind || !NEEDS_DATASET.has(kind)) continue;
    const ins = incoming.get(id)!;
    if (ins.length === 0) {
      if (!entry && !compensators.has(id))
        add({
          stepId: id,
          path,
          code: ValidationIssueCode.missingInput,
          message: `${kind} ${quote(id)} needs a dataset but no edge leads into it: connect a source, transform or merge to it`,
        });
      continue;
    }
    if (kind === 'merge' && ins.length === 1)
      add({
        stepId: id,
        path,
        code: ValidationIssueCode.mergeSingleInput,
        severity: 'warning',
        message: `merge ${quote(id)} has one input, so it merges nothing: connect the other datasets to it, or remove it`,
      });
    for (const e of ins) {
      if (e.when === 'error') continue;
      const f = outflow(e.from);
      if (f.type === 'dataset' || f.type === 'unknown') continue;
      const via =
        f.origin === e.from
          ? quote(e.from)
          : `${quote(e.from)} (which passes on what reaches it from ${quote(f.origin!)})`;
      const what =
        f.type === 'value' ? VALUE_OF[f.originKind!] : `no data (${quote(f.origin!)} starts the run and has no input)`;
      add({
        stepId: id,
        path: e.path,
        code: ValidationIssueCode.typeMismatch,
        message: `${kind} ${quote(id)} needs a dataset, but its input from ${via} is ${what}: connect it to a source, transform or merge`,
      });
    }
  }
}

function checkStepFields(
  s: Obj,
  id: string | undefined,
  path: string,
  allIds: Map<string, string>,
  add: Add,
  refs: Refs,
): void {
  const kind = str(s.kind);
  const stepId = id;
  const label = `${kind ?? 'step'} ${quote(id ?? path)}`;
  const endpointRef = (endpoint: unknown, at: string) => {
    if (isObj(endpoint) && (endpoint.kind === 'site-db' || endpoint.kind === 'site-api') && str(endpoint.connectorId))
      refs.connectors.push({ connectorId: endpoint.connectorId as string, path: `${at}.connectorId`, stepId });
  };
  if (kind === 'source' || kind === 'destination') {
    const hasDb = s.db !== undefined;
    const hasHttp = s.http !== undefined;
    if (hasDb === hasHttp)
      add({
        stepId,
        path,
        code: ValidationIssueCode.endpointOneOf,
        message: `${label} ${hasDb ? 'has both db and http' : 'has neither db nor http'}: give exactly one (a database ${kind === 'source' ? 'read' : 'write'} or an HTTP request)`,
      });
    if (isObj(s.db)) endpointRef(s.db.endpoint, `${path}.db.endpoint`);
    if (isObj(s.http)) endpointRef(s.http.endpoint, `${path}.http.endpoint`);
    // Checked against the registry only when the schema accepted it (the zod issues already name a bad one).
    if (isObj(s.http) && isObj(s.http.operation)) {
      const op = s.http.operation;
      const endpoint = s.http.endpoint === undefined ? 'none' : HttpEndpoint.safeParse(s.http.endpoint).data;
      if (typeof op.apiId === 'string' && Number.isInteger(op.version) && typeof op.key === 'string')
        refs.apiOperations.push({
          ref: { apiId: op.apiId, version: op.version as number, key: op.key },
          path: `${path}.http.operation`,
          stepId,
          ...(endpoint ? { endpoint } : {}),
        });
    } else if (isObj(s.http) && s.http.endpoint === undefined)
      add({
        stepId,
        path: `${path}.http`,
        code: ValidationIssueCode.httpEndpointOrOperation,
        message: `${label} has neither an endpoint nor an operation: give the endpoint it calls, or the registered API operation (routed by the API's accessibility)`,
      });
  }
  if (kind === 'sync' && stepId) {
    const column = str(arr(s.keyColumns)[0]);
    for (const side of ['left', 'right'] as const) {
      const end = s[side];
      if (!column || !isObj(end) || !isObj(end.endpoint) || end.endpoint.kind !== 'site-db' || !isObj(end.table))
        continue;
      const connectorId = str(end.endpoint.connectorId);
      const database = str(end.endpoint.database);
      const name = str(end.table.name);
      const schema = str(end.table.schema);
      if (connectorId && database && name)
        refs.syncKeys.push({
          connectorId,
          database,
          table: { name, ...(schema ? { schema } : {}) },
          column,
          path: `${path}.keyColumns[0]`,
          stepId,
        });
    }
  }
  if (kind === 'source' && isObj(s.db)) {
    const hasTable = s.db.table !== undefined;
    const hasSql = s.db.sql !== undefined;
    if (hasTable === hasSql)
      add({
        stepId,
        path: `${path}.db`,
        code: ValidationIssueCode.tableOrSql,
        message: `${label} ${hasTable ? 'has both table and sql' : 'has neither table nor sql'}: read either a table or a query`,
      });
    if (hasSql && isObj(s.db.endpoint) && s.db.endpoint.kind !== 'site-db')
      add({
        stepId,
        path: `${path}.db.sql`,
        code: ValidationIssueCode.sqlNotOnSiteDb,
        message: `${label} sends a read query to a ${String(s.db.endpoint.kind)} database: queries run only on site databases (the agent checks them); read a table instead`,
      });
  }
  if (kind === 'destination' && isObj(s.db) && isObj(s.db.endpoint) && s.db.endpoint.kind === 'site-db') {
    const connectorId = str(s.db.endpoint.connectorId);
    const database = str(s.db.endpoint.database);
    const table = s.db.table;
    if (connectorId && database && isObj(table) && str(table.name) && id)
      refs.destinations.push({
        connectorId,
        database,
        table: { ...(str(table.schema) ? { schema: table.schema as string } : {}), name: table.name as string },
        path: `${path}.db.table`,
        stepId: id,
      });
  }
  if (kind === 'sync') {
    for (const side of ['left', 'right'] as const) {
      const end = s[side];
      if (!isObj(end)) continue;
      endpointRef(end.endpoint, `${path}.${side}.endpoint`);
      // A sync writes both sides: a site side must be writable under the site's policy.
      const e = end.endpoint;
      const table = end.table;
      if (
        isObj(e) &&
        e.kind === 'site-db' &&
        str(e.connectorId) &&
        str(e.database) &&
        isObj(table) &&
        str(table.name) &&
        id
      )
        refs.destinations.push({
          connectorId: e.connectorId as string,
          database: e.database as string,
          table: { ...(str(table.schema) ? { schema: table.schema as string } : {}), name: table.name as string },
          path: `${path}.${side}.table`,
          stepId: id,
        });
    }
    const columns = arr(s.columns).filter((c): c is string => typeof c === 'string');
    const conflict = s.conflict;
    if (
      columns.length > 0 &&
      isObj(conflict) &&
      conflict.policy === 'last-writer-wins' &&
      str(conflict.column) &&
      !columns.includes(conflict.column as string)
    )
      add({
        stepId,
        path: `${path}.conflict.column`,
        code: ValidationIssueCode.syncConflictColumn,
        message: `${label} settles conflicts by ${String(conflict.column)}, which is not one of its columns: add it to columns (its value must be compared and copied)`,
      });
  }
  if (kind === 'wait' && (s.duration !== undefined) === (s.until !== undefined))
    add({
      stepId,
      path,
      code: ValidationIssueCode.waitOneOf,
      message: `${label} ${s.duration !== undefined ? 'has both duration and until' : 'has neither duration nor until'}: wait either for a duration or until a time`,
    });
  if (kind === 'call' && str(s.definitionId) && id)
    refs.definitions.push({ definitionId: s.definitionId as string, path: `${path}.definitionId`, stepId: id });
  const compensate = isObj(s.onError) ? str(s.onError.compensate) : undefined;
  if (compensate !== undefined && (!allIds.has(compensate) || compensate === id))
    add({
      stepId,
      path: `${path}.onError.compensate`,
      code: ValidationIssueCode.unknownCompensateStep,
      message:
        compensate === id
          ? `${label} names itself as its compensating step: name the step that undoes its work`
          : `${label} names compensating step ${quote(compensate)}, which does not exist in this definition`,
    });
}

function checkTriggers(triggers: unknown[], steps: unknown[], add: Add, refs: Refs): void {
  let webhooks = 0;
  triggers.forEach((t, i) => {
    if (!isObj(t)) return;
    const path = `triggers[${i}]`;
    if (t.kind === 'schedule') {
      if ((t.cron !== undefined) === (t.every !== undefined))
        add({
          path,
          code: ValidationIssueCode.scheduleOneOf,
          message: `schedule trigger ${t.cron !== undefined ? 'has both cron and every' : 'has neither cron nor every'}: give one (a cron such as "0 2 * * *", or an interval such as "15m")`,
        });
      const cron = str(t.cron);
      const problem = cron === undefined ? undefined : cronProblem(cron);
      if (problem)
        add({
          path: `${path}.cron`,
          code: ValidationIssueCode.invalidCron,
          message: `schedule cron ${quote(cron!)}: ${problem}`,
        });
    }
    if (t.kind === 'webhook' && ++webhooks > 1)
      add({
        path,
        code: ValidationIssueCode.multipleWebhooks,
        message: 'a definition has one webhook URL, so at most one webhook trigger: remove this one',
      });
    if (t.kind === 'site-event' && str(t.connectorId))
      refs.connectors.push({ connectorId: t.connectorId as string, path: `${path}.connectorId` });
    if (t.kind === 'site-event' && isObj(t.table) && str(t.table.name)) {
      const watched = {
        connectorId: str(t.connectorId) ?? '',
        database: str(t.database) ?? '',
        table: t.table as { name: string; schema?: string },
      };
      // The interpreter hands the batch to the source step that reads the watched table (site-event.ts).
      const read = steps.some(
        (s) =>
          isObj(s) &&
          s.kind === 'source' &&
          isObj(s.db) &&
          isObj(s.db.endpoint) &&
          readsWatchedTable(s.db as Parameters<typeof readsWatchedTable>[0], watched),
      );
      if (!read)
        add({
          path,
          code: ValidationIssueCode.siteEventUnread,
          severity: 'warning',
          message: `site-event trigger on ${watched.database}.${watched.table.schema ? `${watched.table.schema}.` : ''}${watched.table.name}: no source step reads that table on connector ${watched.connectorId}, so its runs never see the new rows; add a source step with that site-db endpoint and table`,
        });
    }
  });
}

async function contextIssues(refs: Refs, ctx: ValidationContext): Promise<ValidationIssue[]> {
  const issues: ValidationIssue[] = [];
  const once = <T>(fn: (key: string) => Promise<T> | T) => {
    const cache = new Map<string, Promise<T>>();
    return (key: string) => {
      let p = cache.get(key);
      if (!p) cache.set(key, (p = Promise.resolve(fn(key))));
      return p;
    };
  };
  const connectorExists = ctx.connectorExists ? once(ctx.connectorExists.bind(ctx)) : undefined;
  const missingConnectors = new Set<string>();
  if (connectorExists)
    for (const ref of refs.connectors)
      if (!(await connectorExists(ref.connectorId))) {
        missingConnectors.add(ref.connectorId);
        issues.push({
          stepId: ref.stepId,
          path: ref.path,
          code: ValidationIssueCode.unknownConnector,
          message: `connector ${quote(ref.connectorId)} does not exist in this tenant: create it, or use one of the tenant's connectors`,
          severity: 'error',
        });
      }
  if (ctx.apiOperation) {
    const lookup = ctx.apiOperation.bind(ctx);
    const answers = new Map<string, Promise<'ok' | 'unknown-api' | 'unknown-version' | 'unknown-operation'>>();
    for (const { ref, path, stepId } of refs.apiOperations) {
      const cacheKey = JSON.stringify([ref.apiId, ref.version, ref.key]);
      let answer = answers.get(cacheKey);
      if (!answer) answers.set(cacheKey, (answer = Promise.resolve(lookup(ref))));
      const found = await answer;
      if (found === 'ok') continue;
      const what =
        found === 'unknown-api'
          ? `API ${quote(ref.apiId)}, which this tenant has not registered: register its specification first`
          : found === 'unknown-version'
            ? `version ${ref.version} of API ${quote(ref.apiId)}, which does not exist: pin one of its registered versions`
            : `operation ${quote(ref.key)}, which version ${ref.version} of API ${quote(ref.apiId)} does not have: pick one of that version's operations`;
      issues.push({
        stepId,
        path,
        code: ValidationIssueCode.unknownApiOperation,
        message: `step ${quote(stepId ?? path)} calls ${what}`,
        severity: 'error',
      });
    }
  }
  if (ctx.apiAccess) await accessibilityIssues(ctx.apiAccess.bind(ctx), refs.apiOperations, issues);
  if (ctx.definitionExists) {
    const exists = once(ctx.definitionExists.bind(ctx));
    for (const ref of refs.definitions)
      if (!(await exists(ref.definitionId)))
        issues.push({
          stepId: ref.stepId,
          path: ref.path,
          code: ValidationIssueCode.unknownDefinition,
          message: `call step ${quote(ref.stepId)} runs definition ${quote(ref.definitionId)}, which this tenant does not have`,
          severity: 'error',
        });
  }
  if (ctx.destinationWritable) {
    const writable = ctx.destinationWritable.bind(ctx);
    for (const ref of refs.destinations) {
      if (missingConnectors.has(ref.connectorId)) continue;
      const table = ref.table.schema ? `${ref.table.schema}.${ref.table.name}` : ref.table.name;
      let answer: 'yes' | 'no' | 'unknown';
      try {
        answer = await writable(ref.connectorId, ref.database, ref.table);
      } catch {
        // The site could not be asked: the same as an offline agent, checked again when a run loads.
        answer = 'unknown';
      }
      if (answer === 'no')
        issues.push({
          stepId: ref.stepId,
          path: ref.path,
          code: ValidationIssueCode.destinationNotWritable,
          message: `destination ${quote(ref.stepId)} writes ${ref.database}.${table} on connector ${quote(ref.connectorId)}, which the site's policy does not list as writable: ask the site to add it to its policy.json, or write elsewhere`,
          severity: 'error',
        });
      else if (answer === 'unknown')
        issues.push({
          stepId: ref.stepId,
          path: ref.path,
          code: ValidationIssueCode.destinationWritableUnknown,
          message: `could not ask connector ${quote(ref.connectorId)} whether ${ref.database}.${table} is writable (its agent is offline): the load is refused then if the site's policy does not list it`,
          severity: 'warning',
        });
    }
  }
  if (ctx.columnType) {
    const columnType = ctx.columnType.bind(ctx);
    for (const ref of refs.syncKeys) {
      if (missingConnectors.has(ref.connectorId)) continue;
      // Unknown (never discovered, or the registry unreachable): the sync's first read refuses it then.
      const type = await Promise.resolve(columnType(ref.connectorId, ref.database, ref.table, ref.column)).catch(
        () => undefined,
      );
      if (type === undefined || INTEGER_TYPE.test(type.trim())) continue;
      const table = ref.table.schema ? `${ref.table.schema}.${ref.table.name}` : ref.table.name;
      issues.push({
        stepId: ref.stepId,
        path: ref.path,
        code: ValidationIssueCode.syncKeyNotInteger,
        message: `sync ${quote(ref.stepId)}: its first key column ${ref.column} is ${type} in ${ref.database}.${table} on connector ${quote(ref.connectorId)}, but a sync splits key ranges on an integer first key column (text keys are not supported); put an integer key column first in keyColumns`,
        severity: 'error',
      });
    }
  }
  return issues;
}

/** Integer column types as PostgreSQL, MySQL/MariaDB and SQL Server name them (with a display width, unsigned). */
const INTEGER_TYPE =
  /^(?:(?:tiny|small|medium|big)?int(?:eger)?|int[248]|(?:small|big)?serial|serial[248])(?:\s*\(\d+\))?(?:\s+unsigned)?(?:\s+zerofill)?$/i;

/** Each operation step's placement against its API's accessibility (routing.ts): refused with the step named. */
async function accessibilityIssues(
  lookup: NonNullable<ValidationContext['apiAccess']>,
  uses: Refs['apiOperations'],
  issues: ValidationIssue[],
): Promise<void> {
  const answers = new Map<string, Promise<ApiAccess | undefined>>();
  for (const { ref, path, stepId, endpoint } of uses) {
    if (!endpoint) continue;
    let answer = answers.get(ref.apiId);
    if (!answer) answers.set(ref.apiId, (answer = Promise.resolve(lookup(ref.apiId))));
    const access = await answer;
    const step = quote(stepId ?? path);
    const refusal =
      endpoint === 'none'
        ? access
          ? undefined
          : `API ${quote(ref.apiId)} has no accessibility recorded, so nothing can route it: register it with accessibility (site, internet or both), or give the step an endpoint`
        : access && accessibilityRefusal(ref.apiId, access, endpoint);
    if (refusal)
      issues.push({
        stepId,
        path: endpoint === 'none' ? path : path.replace(/\.operation$/, '.endpoint'),
        code: ValidationIssueCode.apiAccessibility,
        message: `step ${step}: ${refusal}`,
        severity: 'error',
      });
  }
}
