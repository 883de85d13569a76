import { z } from 'zod';
import { SandboxError, SandboxErrorCode } from './errors';

/** What bounds one operation call in the sandbox. Parsed once per sandbox; every field has a default. */
export const SandboxLimits = z.object({
  /** Memory of the call's QuickJS runtime (bundle, input, heap), in bytes. Default 32 MiB. */
  memoryBytes: z
    .number()
    .int()
    .min(1024 * 1024)
    .max(1024 * 1024 * 1024)
    .default(32 * 1024 * 1024),
  /**
   * Stack of the QuickJS runtime in bytes. Default 256 KiB: below what the host's own stack holds of
   * QuickJS frames, so QuickJS stops deep recursion, not the host (as the transforms' script op).
   */
  stackBytes: z
    .number()
    .int()
    .min(64 * 1024)
    .max(1024 * 1024)
    .default(256 * 1024),
  /** The whole call, HTTP waits included, in ms; the VM is interrupted at the same deadline. Default 30,000. */
  timeoutMs: z
    .number()
    .int()
    .min(1)
    .max(15 * 60_000)
    .default(30_000),
  /** HTTP requests one call may make (a promise flood of requests stops here). Default 100. */
  maxHttpRequests: z.number().int().min(0).max(100_000).default(100),
  /** HTTP requests in flight at once. Default 8. */
  maxConcurrentHttp: z.number().int().min(1).max(256).default(8),
  /** Largest result (as JSON text, UTF-16 units). Default 16 MiB. */
  maxResultChars: z
    .number()
    .int()
    .min(1024)
    .max(512 * 1024 * 1024)
    .default(16 * 1024 * 1024),
});
export type SandboxLimits = z.infer<typeof SandboxLimits>;
export type SandboxLimitsInput = z.input<typeof SandboxLimits>;

export function parseSandboxLimits(input: SandboxLimitsInput = {}): SandboxLimits {
  const parsed = SandboxLimits.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new SandboxError(
      SandboxErrorCode.badInput,
      `sandbox limit ${issue.path.join('.') || '(limits)'}: ${issue.message}`,
    );
  }
  return parsed.data;
}
