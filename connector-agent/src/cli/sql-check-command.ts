import { DIALECTS, parseCommand, type Dialect } from '@vansales/protocol';
import { checkReadOnlySql } from '../sql-guard';
import { VERSION_LINE, type CliCommand, type CliIo } from './command';

const USAGE = `usage: mini-connector sql check --dialect <${DIALECTS.join('|')}>
  Reads one SQL text from stdin and checks it with the agent's read-only guard (no database is
  contacted). Prints "allowed" and exits 0, or prints why it is refused to stderr and exits 1.
`;

/** `mini-connector sql check`: lets a site (or CI) see what the agent would refuse, and why. */
export const sqlCheckCommand: CliCommand = {
  words: ['sql', 'check'],
  summary: 'check one SQL text from stdin against the read-only guard',
  async run(args, io) {
    const parsed = parseCommand(
      args,
      { usage: USAGE, version: VERSION_LINE, options: { dialect: { type: 'string' } } },
      io,
    );
    if (!parsed.ok) return parsed.exitCode;
    const dialect = parsed.values.dialect;
    if (dialect === undefined || !(DIALECTS as readonly string[]).includes(dialect)) {
      io.stderr.write(`${dialect === undefined ? 'missing --dialect' : `unknown dialect: ${dialect}`}\n${USAGE}`);
      return 2;
    }
    const verdict = await checkReadOnlySql(await readAll(io.stdin), dialect as Dialect);
    if (verdict.allowed) {
      io.stdout.write('allowed\n');
      return 0;
    }
    io.stderr.write(`${verdict.reason}\n`);
    return 1;
  },
};

async function readAll(stream: CliIo['stdin']): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
