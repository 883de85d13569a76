/**
 * Checks a 5-field cron expression (minute hour day-of-month month day-of-week) the way Temporal's
 * schedule spec reads it, plus the @macros it accepts, so a definition with a cron Temporal would
 * refuse is refused when it is saved, naming the field, not when its schedule is created.
 * Returns why it is not valid, or undefined.
 */
const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  {
    name: 'month',
    min: 1,
    max: 12,
    names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
  },
  // 7 is Sunday too, as in most crons.
  { name: 'day of week', min: 0, max: 7, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
] as const;
const MACROS = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

export function cronProblem(expression: string): string | undefined {
  const text = expression.trim();
  if (MACROS.has(text.toLowerCase())) return undefined;
  const parts = text.split(/\s+/);
  if (parts.length !== 5)
    return `a cron has 5 fields (minute hour day-of-month month day-of-week), "${expression}" has ${parts.length}`;
  for (let i = 0; i < 5; i++) {
    const field = FIELDS[i]!;
    const problem = fieldProblem(parts[i]!, field);
    if (problem) return `${field.name} "${parts[i]}": ${problem}`;
  }
  return undefined;
}

function fieldProblem(
  text: string,
  field: { min: number; max: number; names?: readonly string[] },
): string | undefined {
  const value = (v: string): number | undefined => {
    if (/^\d{1,2}$/.test(v)) return Number(v);
    const named = field.names?.indexOf(v.toUpperCase()) ?? -1;
    return named >= 0 ? named + (field.min === 1 ? 1 : 0) : undefined;
  };
  for (const item of text.split(',')) {
    const [range, step, extra] = item.split('/');
    if (extra !== undefined || range === undefined || range === '') return `"${item}" is not a value, range or step`;
    if (step !== undefined && !(/^\d{1,2}$/.test(step) && Number(step) > 0))
      return `step "${step}" is not a number above 0`;
    if (range === '*') continue;
    const [a, b, more] = range.split('-');
    if (more !== undefined) return `"${range}" is not a range`;
    const lo = value(a ?? '');
    const hi = b === undefined ? lo : value(b);
    if (lo === undefined || hi === undefined) return `"${range}" is not a number${field.names ? ' or a name' : ''}`;
    if (lo < field.min || hi > field.max || lo < field.min || hi < field.min || lo > field.max)
      return `values are ${field.min}-${field.max}`;
    if (hi < lo) return `range "${range}" runs backwards`;
  }
  return undefined;
}
