/**
 * The helpers of the benchmarks that need no services (support.ts reads the test services' directory
 * when imported): one JSON line per figure, rounding, and `--name value` options.
 */
export const emit = (record: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify(record)}\n`);
export const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;
export function cliOption(name: string, args = process.argv.slice(2)): string | undefined {
  const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  return args[i]!.includes('=') ? args[i]!.slice(args[i]!.indexOf('=') + 1) : args[i + 1];
}
