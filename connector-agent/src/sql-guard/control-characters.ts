import { refuse } from './sql-refusal';

// Tab, line feed, form feed and carriage return are ordinary whitespace everywhere; any other control
// character is read differently by different lexers (a NUL ends the text for C parsers, `--` followed by
// a control character is a comment in MySQL), so a query has no business containing one.
const isOddControl = (code: number) =>
  (code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0c && code !== 0x0d) || code === 0x7f;

export function refuseControlCharacters(sql: string): void {
  for (let i = 0; i < sql.length; i++) {
    const code = sql.charCodeAt(i);
    if (isOddControl(code)) {
      refuse(
        `The SQL text contains the control character U+${code.toString(16).toUpperCase().padStart(4, '0')} at position ${i}; remove it (control characters are read differently by different SQL lexers).`,
      );
    }
  }
}
