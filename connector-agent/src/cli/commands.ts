import type { CliCommand } from './command';
import { runCommand } from './run-command';
import { initCommand } from './init-command';
import { auditVerifyCommand } from './audit-verify-command';
import { sqlCheckCommand } from './sql-check-command';
import { doctorCommand } from './doctor-command';
import { serviceCommand } from './service-command';

/** Every `mini-connector` command; the first words of argv select one. */
export const COMMANDS: CliCommand[] = [
  runCommand,
  initCommand,
  auditVerifyCommand,
  sqlCheckCommand,
  doctorCommand,
  serviceCommand,
];
