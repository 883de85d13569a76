import jsonata from 'jsonata';
import { DataflowError, DataflowErrorCode } from '../errors';

/** A compiled JSONata expression of an HTTP step (records path, cursor, request body). */
export interface StepExpression {
  evaluate(input: unknown, bindings?: Record<string, unknown>): Promise<unknown>;
}

/**
 * Compiles once per activity; errors name the setting (`records`, `pagination.next`, `body`) and
 * JSONata's own position and message, which a workflow author can act on.
 */
export function compileExpression(text: string, setting: string): StepExpression {
  let expression: ReturnType<typeof jsonata>;
  try {
    expression = jsonata(text);
  } catch (err) {
    throw new DataflowError(DataflowErrorCode.BAD_EXPRESSION, `${setting}: ${describe(err)}`);
  }
  return {
    async evaluate(input, bindings) {
      try {
        return await expression.evaluate(input, bindings);
      } catch (err) {
        throw new DataflowError(DataflowErrorCode.BAD_EXPRESSION, `${setting}: ${describe(err)}`);
      }
    },
  };
}

function describe(err: unknown): string {
  const e = err as { message?: string; position?: number };
  return `${e.message ?? String(err)}${typeof e.position === 'number' ? ` (at character ${e.position})` : ''}`;
}
