/** One `mini-connector` sub-command. Streams are injected so tests run commands in-process. */
export interface CliIo {
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

export interface CliCommand {
  /** Words that select it, e.g. ['sql', 'check']. */
  words: string[];
  summary: string;
  run(args: string[], io: CliIo): Promise<number>;
}

export function argValue(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}
