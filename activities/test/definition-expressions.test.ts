import { ApplicationFailure } from '@temporalio/common';
import { DefinitionRunErrorType, MAX_STEP_VALUE_BYTES } from '@vansales/definitions';
import { evaluateJsonata, truthy } from '../src/cloud/definition-activities';

describe('JSONata conditions and expressions of the interpreter', () => {
  const context = { input: { region: 'north', limit: 5 }, steps: { src: { rows: 7 } } };

  it('evaluates over the run input and step values, with JSONata truthiness', async () => {
    expect(truthy(await evaluateJsonata('input.region = "north" and steps.src.rows > input.limit', context))).toBe(
      true,
    );
    expect(truthy(await evaluateJsonata('steps.nothing.rows', context))).toBe(false);
    expect(truthy(await evaluateJsonata('[]', context))).toBe(false);
    expect(await evaluateJsonata('$string(steps.src.rows * 2)', context)).toBe('14');
  });

  it('names a bad expression as the author must fix it, and does not retry it', async () => {
    const err = await evaluateJsonata('input.(', context).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: DefinitionRunErrorType.badExpression, nonRetryable: true });
    expect((err as Error).message).toContain('does not parse');
  });

  it('refuses a context larger than a step value may be', async () => {
    const err = await evaluateJsonata('true', { input: 'x'.repeat(MAX_STEP_VALUE_BYTES + 1) }).catch((e: unknown) => e);
    expect(err).toMatchObject({ type: DefinitionRunErrorType.valueTooLarge });
  });

  it('does not let an expression reach Object.prototype (JSONata >= 2.2.1)', async () => {
    await evaluateJsonata('$merge([{}, {"__proto__": {"polluted": true}}])', {}).catch(() => undefined);
    await evaluateJsonata('__proto__.polluted := true', {}).catch(() => undefined);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });
});
