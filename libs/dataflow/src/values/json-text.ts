/**
 * JSON.parse, except that a number a double cannot hold exactly (an id past 2^53, a 30-digit
 * amount) keeps its text, as a string, instead of being rounded: JSON documents follow the same
 * rule as integer and decimal columns (no digit is ever lost; what a double cannot carry is text).
 */
export function parseJsonText(text: string): unknown {
  const inexact = inexactNumbers(text);
  if (inexact.length === 0) return JSON.parse(text);
  let out = '';
  let from = 0;
  for (const [start, end] of inexact) {
    out += `${text.slice(from, start)}"${text.slice(start, end)}"`;
    from = end;
  }
  return JSON.parse(out + text.slice(from));
}

/** [start, end) of every number token outside strings that does not read back the same as a double. */
function inexactNumbers(text: string): [number, number][] {
  const found: [number, number][] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 92 /* \ */) i += 2;
        else if (d === 34) break;
        else i++;
      }
      i++;
      continue;
    }
    if (c === 45 /* - */ || (c >= 48 && c <= 57)) {
      const start = i;
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if ((d >= 48 && d <= 57) || d === 46 || d === 101 || d === 69 || d === 43 || d === 45) i++;
        else break;
      }
      // Up to 15 significant digits always survive a double; longer tokens and exponents (1e400) need the check.
      const token = text.slice(start, i);
      if ((token.length > 15 || /[eE]/.test(token)) && !exactAsDouble(token)) found.push([start, i]);
      continue;
    }
    i++;
  }
  return found;
}

/** Whether the decimal token and the double it parses to denote the same number. */
function exactAsDouble(token: string): boolean {
  const value = Number(token);
  if (!Number.isFinite(value)) return false;
  return sameDecimal(digitsOf(token), digitsOf(String(value)));
}

/** Significant digits and the exponent of the first one: '-0.0120e3' -> { digits: '12', exponent: 0, negative }. */
function digitsOf(text: string): { digits: string; exponent: number; negative: boolean } {
  const negative = text.startsWith('-');
  const body = negative ? text.slice(1) : text;
  const e = body.search(/[eE]/);
  const mantissa = e < 0 ? body : body.slice(0, e);
  const exp = e < 0 ? 0 : Number(body.slice(e + 1));
  const dot = mantissa.indexOf('.');
  const intPart = dot < 0 ? mantissa : mantissa.slice(0, dot);
  const all = intPart + (dot < 0 ? '' : mantissa.slice(dot + 1));
  const lead = all.length - all.replace(/^0+/, '').length;
  const digits = all.slice(lead).replace(/0+$/, '');
  return { digits, exponent: intPart.length - lead + exp, negative };
}

function sameDecimal(a: ReturnType<typeof digitsOf>, b: ReturnType<typeof digitsOf>): boolean {
  if (a.digits === '' || b.digits === '') return a.digits === b.digits;
  return a.digits === b.digits && a.exponent === b.exponent && a.negative === b.negative;
}
