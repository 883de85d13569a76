#!/usr/bin/env node
// Answers `./vsc --help` / `--version` (and `./vsc <command> --help`) on a fresh clone, before the
// CLI is built: plain JavaScript over the same texts (cli-help.json) the built CLI prints.
'use strict';
const help = require('../cli-help.json');
const { version } = require('../package.json');

const args = process.argv.slice(2);
const end = args.indexOf('--');
const ours = end < 0 ? args : args.slice(0, end);
const entry = help.commands.find((c) => c.words === args[0]);
const width = Math.max(...help.commands.map((c) => c.words.length));
const programUsage =
  `usage: ./vsc <command> [options]\n\n${help.commands.map((c) => `  ${c.words.padEnd(width)}  ${c.summary}`).join('\n')}\n\n` +
  "  --help, -h     this text (after a command: that command's)\n  --version, -V  the version\n";

if (ours.some((a) => a === '--help' || a === '-h') || args[0] === 'help') {
  process.stdout.write(entry ? entry.usage : programUsage);
} else if (ours.some((a) => a === '--version' || a === '-V')) {
  process.stdout.write(`vsc ${version}\n`);
} else {
  process.stderr.write(programUsage);
  process.exit(2);
}
