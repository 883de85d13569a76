import { z } from 'zod';

/**
 * `api.fetch-spec` (issue 11 item 1): the gateway asks a site's agent for an API specification at a
 * URL on the site's network, which the cloud cannot reach. The agent fetches it only under its own
 * rules (an API of its site policy, or its explicit allowlist), GET only, no redirect to another host,
 * bounded in size and time, and answers the text. The text rides the frame and the workflow's result:
 * hence the cap, below both the frame limit and Temporal's payload limit after JSON escaping.
 */
export const MAX_SITE_SPEC_BYTES = 512 * 1024;

export const ApiFetchSpecInput = z.object({
  url: z
    .string()
    .url()
    .max(2000)
    .refine((u) => /^https?:\/\//i.test(u), 'an http:// or https:// URL')
    .refine((u) => !new URL(u).username && !new URL(u).password, 'a URL without user info'),
});
export type ApiFetchSpecInputT = z.infer<typeof ApiFetchSpecInput>;

export const ApiFetchSpecOutput = z.object({
  text: z.string().max(MAX_SITE_SPEC_BYTES),
  contentType: z.string().max(200).optional(),
  /** The URL that answered (the same host: another host's redirect is refused). */
  sourceUrl: z.string().max(2000),
  /** Which of the agent's rules allowed it: a site policy API's name, or `allowlist`. */
  allowedBy: z.string().max(128),
});
export type ApiFetchSpecOutputT = z.infer<typeof ApiFetchSpecOutput>;
