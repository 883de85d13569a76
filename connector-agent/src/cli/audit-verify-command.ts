import { AuditLogError, verifyAuditFile } from '../audit/audit-log';
import { parseCommand } from '@vansales/protocol';
import { VERSION_LINE, type CliCommand } from './command';

const USAGE = `usage: mini-connector audit verify <file>

  Checks the hash chain of an audit log file and names its first broken link. Exit 0 when intact,
  1 when broken, 2 when the file cannot be read.
`;

export const auditVerifyCommand: CliCommand = {
  words: ['audit', 'verify'],
  summary: "check an audit log file's hash chain and name its first broken link",
  async run(args, io) {
    const parsed = parseCommand(args, { usage: USAGE, version: VERSION_LINE, positionals: { min: 1, max: 1 } }, io);
    if (!parsed.ok) return parsed.exitCode;
    const path = parsed.positionals[0]!;
    let result;
    try {
      result = await verifyAuditFile(path);
    } catch (err) {
      if (err instanceof AuditLogError) {
        io.stderr.write(`${err.message}\n`);
        return 2;
      }
      throw err;
    }
    if (result.ok) {
      const head = result.head ? `; last record seq ${result.head.seq}, hash ${result.head.hash}` : '';
      io.stdout.write(`${result.count} records, chain intact${head}\n`);
      return 0;
    }
    io.stdout.write(
      `chain broken at record seq ${result.brokenAt} (line ${result.index + 1}): ${result.reason}: ${result.message}\n` +
        `${result.count} records before it are intact\n`,
    );
    return 1;
  },
};
