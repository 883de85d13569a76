// What every benchmark prints and reads, without support.ts's side effect (it reads the test
// services' directory when imported): for the benchmarks that need no service.

/** One JSON line per figure. */
export const emit = (record: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(record)}\n`);

export const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

/** `--name value` or `--name=value`. */
export function cliOption(name: string, args = process.argv.slice(2)): string | undefined {
  const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  return args[i]!.includes('=') ? args[i]!.slice(args[i]!.indexOf('=') + 1) : args[i + 1];
}
