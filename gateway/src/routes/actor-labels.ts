import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

/** The OpenAPI description of a `<key>Label` field. */
export const actorLabelSchema = (what: string) =>
  z
    .string()
    .nullable()
    .describe(
      `${what}, for people: a member's email, \`token <name>\` for an API token, else as recorded (a person no longer a member keeps the id)`,
    );

/**
 * Rows answered with `<key>Label` beside `<key>` (`user:<id>`, `token:<id>`, `admin:<label>`…):
 * identity-service `actorLabels`, tenant-scoped (another tenant's person is never named), one query
 * per kind for a whole page.
 */
export async function withActorLabels<K extends string, T extends { [P in K]: string | null }>(
  app: FastifyInstance,
  tenantId: string,
  rows: T[],
  key: K,
): Promise<(T & { [P in `${K}Label`]: string | null })[]> {
  const labels = await app.identity.actorLabels(
    tenantId,
    rows.map((r) => r[key]),
  );
  return rows.map((r) => {
    const actor = r[key];
    return { ...r, [`${key}Label`]: actor && (labels.get(actor) ?? actor) } as T & {
      [P in `${K}Label`]: string | null;
    };
  });
}
