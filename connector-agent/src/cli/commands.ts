import type { CliCommand } from './command';
import { runCommand } from './run-command';

/** Every `mini-connector` command; the first words of argv select one. */
export const COMMANDS: CliCommand[] = [runCommand];
