import { DIALECTS, type Dialect } from '@vansales/protocol';
import { checkReadOnlySql } from '../sql-guard';
import type { CliCommand, CliIo } from './command';

const USAGE = `usage: mini-connector sql check --dialect <${DIALECTS.join('|')}>
  Reads one SQL text from stdin and checks it with the agent's read-only guard (no database is
  contacted). Prints "allowed" and exits 0, or prints why it is refused to stderr and exits 1.
`;

/** `mini-connector sql check`: lets a site (or CI) see what the agent would refuse, and why. */
export const sqlCheckCommand: CliCommand = {
  words: ['sql', 'check'],
  summary: 'check one SQL text from stdin against the read-only guard',
  async run(args, io) {
    if (args.includes('--help') || args.includes('-h')) {
      io.stdout.write(USAGE);
      return 0;
    }
    const dialect = parseDialect(args);
    if (!dialect.ok) {
      io.stderr.write(`${dialect.message}\n${USAGE}`);
      return 2;
    }
    const verdict = await checkReadOnlySql(await readAll(io.stdin), dialect.value);
    if (verdict.allowed) {
      io.stdout.write('allowed\n');
      return 0;
    }
    io.stderr.write(`${verdict.reason}\n`);
    return 1;
  },
};

function parseDialect(args: string[]): { ok: true; value: Dialect } | { ok: false; message: string } {
  let value: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--dialect') value = args[++i];
    else if (arg.startsWith('--dialect=')) value = arg.slice('--dialect='.length);
    else return { ok: false, message: `unexpected argument: ${arg}` };
  }
  if (value === undefined) return { ok: false, message: 'missing --dialect' };
  if (!(DIALECTS as readonly string[]).includes(value)) return { ok: false, message: `unknown dialect: ${value}` };
  return { ok: true, value: value as Dialect };
}

async function readAll(stream: CliIo['stdin']): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
