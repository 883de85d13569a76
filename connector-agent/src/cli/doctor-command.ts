import { loadAgentConfig, AgentConfigError } from '../config';
import { checkWritePrivileges } from '../doctor/write-privileges';
import { argValue, type CliCommand } from './command';

/**
 * `mini-connector doctor --config <path>`: for every configured database, whether the login could
 * write, and the statements for a read-only one. Exit 0 when every login is read-only, 1 when
 * any could write, 2 when a database could not be checked.
 */
export const doctorCommand: CliCommand = {
  words: ['doctor'],
  summary: 'check each configured database login and recommend a read-only one where it could write',
  async run(args, io) {
    const path = argValue(args, '--config') ?? io.env.VSC_AGENT_CONFIG;
    if (!path) {
      io.stderr.write('no configuration: pass --config <path> or set VSC_AGENT_CONFIG\n');
      return 2;
    }
    let config;
    try {
      config = loadAgentConfig(path);
    } catch (err) {
      if (err instanceof AgentConfigError) {
        io.stderr.write(`${err.message}\n`);
        return 2;
      }
      throw err;
    }
    let worst = 0;
    for (const [name, db] of Object.entries(config.databases)) {
      const where = `${name} (${db.dialect}, ${db.user}@${db.host}:${db.port}/${db.database})`;
      try {
        const report = await checkWritePrivileges(db);
        if (!report.canWrite) {
          io.stdout.write(`ok    ${where}: read-only login\n`);
          continue;
        }
        worst = Math.max(worst, 1);
        io.stdout.write(`WARN  ${where}: this login can write:\n${report.findings.map((f) => `        - ${f}`).join('\n')}\n`);
        io.stdout.write(`      The agent refuses writes itself, but a read-only login is the last line. Recommended:\n${report.recommendation.split('\n').map((l) => `        ${l}`).join('\n')}\n`);
      } catch (err) {
        worst = 2;
        const e = err as { code?: string; message?: string };
        io.stdout.write(`FAIL  ${where}: cannot check: ${e.code ?? ''} ${e.message ?? String(err)}\n`);
      }
    }
    return worst;
  },
};
