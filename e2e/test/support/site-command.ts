import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** The built agent CLI (`mini-connector`), run as a site would run it. */
const AGENT_MAIN = join(__dirname, '..', '..', '..', 'connector-agent', 'dist', 'main.js');

/** A command line as the console shows it, split into words (the console quotes nothing but the key line). */
const words = (line: string) => line.trim().split(/\s+/);

/**
 * Runs one shown `mini-connector …` line as the site would: the agent's own CLI, secrets in the
 * environment (never on the command line, which the console never puts them on either).
 */
export function runShown(line: string, env: Record<string, string>): ChildProcess {
  const [command, ...args] = words(line);
  if (command !== 'mini-connector') throw new Error(`not a mini-connector command line: ${line}`);
  return spawn(process.execPath, [AGENT_MAIN, ...args], { env: { ...process.env, ...env }, stdio: 'pipe' });
}

/** How a child process ended and everything it printed (for the assertion's message). */
export async function exitOf(child: ChildProcess): Promise<{ code: number | null; output: string }> {
  let output = '';
  child.stdout?.on('data', (d) => (output += String(d)));
  child.stderr?.on('data', (d) => (output += String(d)));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  return { code, output };
}

/**
 * The install page's command block, read: the API key of its `export VSC_API_KEY='…'` line and its
 * `mini-connector init` and `run` lines.
 */
export function shownCommands(block: string): { lines: string[]; apiKey: string; init: string; run: string } {
  const lines = block.split('\n');
  const apiKey = /^export VSC_API_KEY='(vmc_[^']+)'$/.exec(lines[0] ?? '')?.[1];
  const init = lines.find((l) => l.startsWith('mini-connector init '));
  const run = lines.find((l) => l.startsWith('mini-connector run '));
  if (!apiKey || !init || !run) throw new Error(`the shown commands lack the key, init or run line:\n${block}`);
  return { lines, apiKey, init, run };
}
