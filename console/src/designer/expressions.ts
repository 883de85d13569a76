import jsonata from 'jsonata';
import type { ValidationIssue } from '@vansales/definitions';
import type { DesignerGraph, StepDraft } from './graph';

/** Where a step holds JSONata (model.ts `Expression`): relative paths inside the step. */
export function expressionsOf(step: StepDraft): { path: string; expression: string }[] {
  const found: { path: string; expression: string }[] = [];
  const add = (path: string, value: unknown) => {
    if (typeof value === 'string' && value.trim() !== '') found.push({ path, expression: value });
  };
  const obj = (v: unknown) => (v && typeof v === 'object' ? (v as Record<string, unknown>) : {});
  if (step.kind === 'transform') {
    const t = obj(step.transform);
    if (t.op === 'map') for (const [field, e] of Object.entries(obj(t.fields))) add(`transform.fields.${field}`, e);
    if (t.op === 'filter') add('transform.where', t.where);
  }
  if (step.kind === 'branch') add('condition', step.condition);
  if (step.kind === 'call') add('input', step.input);
  const http = obj(step.http);
  add('http.records', http.records);
  add('http.body', http.body);
  add('http.pagination.next', obj(http.pagination).next);
  return found;
}

/** JSONata throws plain objects ({ code, position, token, message }), not Errors. */
export function errorMessage(err: unknown): string {
  const message = err && typeof err === 'object' && 'message' in err ? (err as { message: unknown }).message : err;
  return typeof message === 'string' ? message : JSON.stringify(message);
}

const parsed = new Map<string, string | null>();

/** The parser's message for a JSONata expression, or null when it parses (cached: runs on every edit). */
export function expressionProblem(expression: string): string | null {
  const known = parsed.get(expression);
  if (known !== undefined) return known;
  let problem: string | null = null;
  try {
    jsonata(expression);
  } catch (err) {
    problem = errorMessage(err);
  }
  if (parsed.size > 5_000) parsed.clear();
  parsed.set(expression, problem);
  return problem;
}

/** An issue for each expression that does not parse, named like the validator's (`steps[2].transform.fields.x`). */
export function expressionIssues(graph: DesignerGraph): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  let index = 0;
  for (const step of graph.steps.values()) {
    for (const { path, expression } of expressionsOf(step)) {
      const problem = expressionProblem(expression);
      if (problem)
        issues.push({
          stepId: step.id,
          path: `steps[${index}].${path}`,
          code: 'invalid-field',
          message: `${path} is not valid JSONata: ${problem}`,
          severity: 'error',
        } as ValidationIssue);
    }
    index++;
  }
  return issues;
}
