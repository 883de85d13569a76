import { existsSync } from 'node:fs';
import { AuditLogError, headsPathOf, verifyAuditFile } from '../audit/audit-log';
import { parseCommand } from '@vansales/protocol';
import { VERSION_LINE, type CliCommand } from './command';

const USAGE = `usage: mini-connector audit verify <file> [--public-key <key>]

  Checks the hash chain of an audit log file and names its first broken link. With the agent's public
  key (printed by init; the gateway holds the enrolled one), also checks the heads the agent signed
  (<file>.heads): a chain rewritten and re-hashed without the private key fails. Exit 0 when intact,
  1 when broken, 2 when the file cannot be read.
`;

const OPTIONS = { 'public-key': { type: 'string' } } as const;

export const auditVerifyCommand: CliCommand = {
  words: ['audit', 'verify'],
  summary: "check an audit log file's hash chain and name its first broken link",
  async run(args, io) {
    const parsed = parseCommand(
      args,
      { usage: USAGE, version: VERSION_LINE, options: OPTIONS, positionals: { min: 1, max: 1 } },
      io,
    );
    if (!parsed.ok) return parsed.exitCode;
    const path = parsed.positionals[0]!;
    const publicKey = parsed.values['public-key'];
    let result;
    try {
      result = await verifyAuditFile(path, { publicKey });
    } catch (err) {
      if (err instanceof AuditLogError) {
        io.stderr.write(`${err.message}\n`);
        return 2;
      }
      throw err;
    }
    if (result.ok) {
      const head = result.head ? `; last record seq ${result.head.seq}, hash ${result.head.hash}` : '';
      const signed = result.keyed
        ? `; signed by the agent's key through seq ${result.keyed.signedThrough}`
        : existsSync(headsPathOf(path))
          ? '; signed heads not checked (pass --public-key)'
          : '';
      io.stdout.write(`${result.count} records, chain intact${head}${signed}\n`);
      return 0;
    }
    io.stdout.write(
      `chain broken at record seq ${result.brokenAt} (line ${result.index + 1}): ${result.reason}: ${result.message}\n` +
        `${result.count} records before it are intact\n`,
    );
    return 1;
  },
};
