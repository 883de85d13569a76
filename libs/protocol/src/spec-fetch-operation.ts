import { z } from 'zod';
import { BufferGrant, BufferObjectId } from './buffer-http';

/**
 * `api.fetch-spec` (issue 11 item 1): the gateway asks a site's agent for an API specification at a
 * URL on the site's network, which the cloud cannot reach. The agent fetches it only under its own
 * rules (an API of its site policy, or its explicit allowlist), GET only, no redirect to another host,
 * bounded in size and time. A small text rides the answer frame and the workflow's result; a larger
 * one (GitHub's is 13 MB) goes into the buffer object the task names, and the answer carries only
 * the reference (claim-check, as rows do), which the gateway reads and deletes.
 */

/** The largest text answered inline: below both the frame limit and Temporal's payload limit after JSON escaping. */
export const MAX_INLINE_SITE_SPEC_BYTES = 512 * 1024;
/** The default cap of a specification the agent fetches (the gateway's ingestion takes 32 MiB by default too). */
export const DEFAULT_SITE_SPEC_MAX_BYTES = 32 * 1024 * 1024;
/** The highest cap a site may set (agent config or site policy `specFetch.maxBytes`): the agent holds the text in memory once. */
export const SITE_SPEC_MAX_BYTES_CEILING = 256 * 1024 * 1024;
/** The pieces a large specification is written to the buffer in (a buffer chunk takes at most 32 MiB). */
export const SITE_SPEC_CHUNK_BYTES = 4 * 1024 * 1024;

export const ApiFetchSpecInput = z.object({
  url: z
    .string()
    .url()
    .max(2000)
    .refine((u) => /^https?:\/\//i.test(u), 'an http:// or https:// URL')
    .refine((u) => !new URL(u).username && !new URL(u).password, 'a URL without user info'),
  /** Where a specification too large to answer inline goes; without it such a one is refused. */
  objectId: BufferObjectId.optional(),
  /** The write grant for `objectId`, added by the gateway as the task leaves (never in Temporal). */
  buffer: BufferGrant.optional(),
});
export type ApiFetchSpecInputT = z.infer<typeof ApiFetchSpecInput>;

/** A specification stored in the buffer: what the gateway reads back and checks before it ingests it. */
export const SiteSpecObject = z.object({
  objectId: BufferObjectId,
  /** Bytes of the UTF-8 text. */
  bytes: z.number().int().min(0).max(SITE_SPEC_MAX_BYTES_CEILING),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type SiteSpecObjectT = z.infer<typeof SiteSpecObject>;

export const ApiFetchSpecOutput = z
  .object({
    /** The text, when it fits inline (at most MAX_INLINE_SITE_SPEC_BYTES). */
    text: z.string().max(MAX_INLINE_SITE_SPEC_BYTES).optional(),
    /** Otherwise the buffer object that holds it. */
    object: SiteSpecObject.optional(),
    contentType: z.string().max(200).optional(),
    /** The URL that answered (the same host: another host's redirect is refused). */
    sourceUrl: z.string().max(2000),
    /** Which of the agent's rules allowed it: a site policy API's name, or `allowlist`. */
    allowedBy: z.string().max(128),
  })
  .refine((o) => (o.text === undefined) !== (o.object === undefined), 'either text or object');
export type ApiFetchSpecOutputT = z.infer<typeof ApiFetchSpecOutput>;
