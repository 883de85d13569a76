import { parseCommand } from '@vansales/protocol';
import { dirname } from 'node:path';
import { openSiteDatabase } from '../site-database/site-database';
import { policyChecks, runtimeChecks, stateChecks } from '../doctor/doctor-checks';
import { CONFIG_OPTION, VERSION_LINE, configFromArgs, type CliCommand } from './command';

const USAGE = `usage: mini-connector doctor --config <agent.json>

  For every configured database, whether its login could write, and the statements for a read-only
  one; then the policy file, the runtime and the agent's folder and vault (the checks a running agent
  also reports to the gateway). Exit 0 when all is well, 1 when any login could write or another
  check warns, 2 when a database could not be checked.
`;

/**
 * `mini-connector doctor --config <path>`: for every configured database, whether the login could
 * write, and the statements for a read-only one. Exit 0 when every login is read-only, 1 when
 * any could write, 2 when a database could not be checked.
 */
export const doctorCommand: CliCommand = {
  words: ['doctor'],
  summary: 'check each configured database login and recommend a read-only one where it could write',
  async run(args, io) {
    const parsed = parseCommand(args, { usage: USAGE, version: VERSION_LINE, options: CONFIG_OPTION }, io);
    if (!parsed.ok) return parsed.exitCode;
    const loaded = configFromArgs(parsed.values.config, io);
    if (!loaded) return 2;
    const { config } = loaded;
    let worst = 0;
    for (const [name, db] of Object.entries(config.databases)) {
      const where = `${name} (${db.dialect}, ${db.user}@${db.host}:${db.port}/${db.database})`;
      const site = openSiteDatabase(name, db);
      try {
        const report = await site.privileges();
        if (!report.canWrite) {
          io.stdout.write(`ok    ${where}: read-only login\n`);
          continue;
        }
        worst = Math.max(worst, 1);
        io.stdout.write(
          `WARN  ${where}: this login can write:\n${report.findings.map((f) => `        - ${f}`).join('\n')}\n`,
        );
        io.stdout.write(
          `      The agent refuses writes itself, but a read-only login is the last line. Recommended:\n${report.recommendation
            .split('\n')
            .map((l) => `        ${l}`)
            .join('\n')}\n`,
        );
      } catch (err) {
        worst = 2;
        // The driver's own code (ECONNREFUSED, 28P01...) says more to a site's admin than ours.
        const e = err as { code?: string; message?: string; cause?: { code?: string } };
        io.stdout.write(`FAIL  ${where}: cannot check: ${e.cause?.code ?? e.code ?? ''} ${e.message ?? String(err)}\n`);
      } finally {
        await site.close();
      }
    }
    // The checks a running agent reports too (doctor/doctor-checks.ts); the clock needs the gateway's.
    const deps = {
      databaseNames: [],
      database: () => undefined,
      ...(config.policyFile ? { policyFile: config.policyFile } : {}),
      stateDir: dirname(loaded.path),
    };
    const others = [...policyChecks(deps), ...runtimeChecks(deps), ...stateChecks(deps)];
    for (const w of others) {
      if (w.severity !== 'info') worst = Math.max(worst, 1);
      const label = w.severity === 'info' ? 'NOTE ' : w.severity === 'error' ? 'ERROR' : 'WARN ';
      io.stdout.write(`${label} ${w.check}: ${w.message}\n      ${w.action}\n`);
    }
    return worst;
  },
};
