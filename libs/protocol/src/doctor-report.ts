import { z } from 'zod';

/**
 * The agent's `doctor` warnings, reported to the gateway (the `doctor` frame) and served to the
 * console. Every field is bounded: a hostile agent can store at most DOCTOR_MAX_REPORT_CHARS of
 * text per connector, and the gateway keeps only the latest report.
 */
export const DOCTOR_LIMITS = {
  warnings: 32,
  checkChars: 64,
  messageChars: 500,
  actionChars: 1000,
  databaseChars: 128,
} as const;

/** Upper bound of one report's text (what the gateway may be asked to keep per connector). */
export const DOCTOR_MAX_REPORT_CHARS =
  DOCTOR_LIMITS.warnings *
  (DOCTOR_LIMITS.checkChars + DOCTOR_LIMITS.messageChars + DOCTOR_LIMITS.actionChars + DOCTOR_LIMITS.databaseChars);

export const DoctorSeverity = z.enum(['info', 'warning', 'error']);
export type DoctorSeverity = z.infer<typeof DoctorSeverity>;

export const DoctorWarning = z.object({
  /** Which check found it (`database.can-write`, `vault.permissions`, `clock.skew`…). */
  check: z
    .string()
    .min(1)
    .max(DOCTOR_LIMITS.checkChars)
    .regex(/^[a-z0-9][a-z0-9.-]*$/, 'a check name: lower-case letters, digits, dots and dashes'),
  severity: DoctorSeverity,
  /** What is wrong, in the site's words. */
  message: z.string().min(1).max(DOCTOR_LIMITS.messageChars),
  /** What to do about it, on the site. */
  action: z.string().max(DOCTOR_LIMITS.actionChars),
  /** The database (its name in the agent) the warning is about, if one. */
  database: z.string().min(1).max(DOCTOR_LIMITS.databaseChars).optional(),
});
export type DoctorWarning = z.infer<typeof DoctorWarning>;

export const DoctorReport = z.object({
  /** When the agent ran the checks (its own clock: a skewed clock shows here too). */
  checkedAt: z.iso.datetime(),
  /** Every check that found something; empty when all is well. */
  warnings: z.array(DoctorWarning).max(DOCTOR_LIMITS.warnings),
});
export type DoctorReport = z.infer<typeof DoctorReport>;

/** Cuts a text to `max` characters, saying so, so an agent never sends a field the gateway refuses. */
export function clipDoctorText(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
