import { z } from 'zod';

/**
 * DATABASE_URL: a PostgreSQL URL for the metadata store. When absent, an embedded PGlite database
 * lives in VSC_METADATA_DIR (one process only: the gateway owns it), or in memory when that is
 * `:memory:` (tests; everything is lost when the process ends, so it is never a default).
 */
export const MetadataConfig = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'expected a postgres:// URL')
    .optional(),
  VSC_METADATA_DIR: z.string().min(1).optional(),
});
export type MetadataConfig = z.infer<typeof MetadataConfig>;
