import { AuditLogError, verifyAuditFile } from '../audit/audit-log';
import type { CliCommand } from './command';

export const auditVerifyCommand: CliCommand = {
  words: ['audit', 'verify'],
  summary: 'check an audit log file\'s hash chain and name its first broken link',
  async run(args, io) {
    const path = args.find((a) => !a.startsWith('-'));
    if (!path || args.length !== 1) {
      io.stderr.write('usage: mini-connector audit verify <file>\n');
      return 2;
    }
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
