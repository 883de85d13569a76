import { z } from 'zod';

/**
 * Signed agent updates (issue 13 §5). The gateway offers a connected agent the version its tenant
 * approved (in the welcome, and in an `update` frame when the approval changes while it is
 * connected); the agent fetches the release's signed SHA256SUMS and the executable for its platform
 * from its own gateway, over these routes (the agent's API key and a fresh key-pair proof, like the
 * WebSocket), and verifies both against the release keys it pins before running anything.
 */
export const AGENT_PLATFORMS = ['linux-x64', 'win-x64'] as const;
export const AgentPlatform = z.enum(AGENT_PLATFORMS);
export type AgentPlatform = z.infer<typeof AgentPlatform>;

/** semver without build metadata: what `mini-connector --version` prints and a release is named by. */
export const AGENT_VERSION_PATTERN = /^\d{1,6}\.\d{1,6}\.\d{1,6}(-[0-9A-Za-z.-]{1,40})?$/;
export const AgentVersion = z
  .string()
  .regex(AGENT_VERSION_PATTERN, 'a version like 1.2.3 or 1.2.3-rc.1 (semver, no build metadata)');

/** The executable's name in a release (and in its SHA256SUMS) per platform. */
export function agentExecutableName(platform: AgentPlatform): string {
  return platform.startsWith('win-') ? `mini-connector-${platform}.exe` : `mini-connector-${platform}`;
}

/** What the gateway offers: the approved version's executable for the agent's platform. */
export const AgentUpdateOffer = z.object({
  version: AgentVersion,
  platform: AgentPlatform,
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z
    .number()
    .int()
    .positive()
    .max(2 * 1024 * 1024 * 1024),
});
export type AgentUpdateOffer = z.infer<typeof AgentUpdateOffer>;

/** Sent to a connected agent that announced its platform when its tenant's approval changes. */
export const UpdateFrame = z.object({ type: z.literal('update'), offer: AgentUpdateOffer });
export type UpdateFrame = z.infer<typeof UpdateFrame>;

export const AGENT_UPDATE_ROUTES_PREFIX = '/v1/agent/updates';
/** The release's signed sums: `GET` answers AgentReleaseSums. */
export const agentUpdateSumsPath = (version: string) => `${AGENT_UPDATE_ROUTES_PREFIX}/${version}/sums`;
/** The executable's bytes. */
export const agentUpdateFilePath = (version: string, platform: AgentPlatform) =>
  `${AGENT_UPDATE_ROUTES_PREFIX}/${version}/${platform}`;
export const AGENT_UPDATE_CONTENT_TYPE = 'application/octet-stream';

/** A release's SHA256SUMS text and the release key's Ed25519 signature over it (base64). */
export const AgentReleaseSums = z.object({
  version: AgentVersion,
  sums: z.string().min(1).max(16_384),
  signature: z.string().regex(/^[A-Za-z0-9+/]{86}==$/, 'an Ed25519 signature in base64'),
});
export type AgentReleaseSums = z.infer<typeof AgentReleaseSums>;

/**
 * The sha256 a SHA256SUMS text gives `fileName` (`<hex>  <name>` lines, as sha256sum -c reads them):
 * the gateway checks an upload with it, the agent a download (after verifying the signature).
 */
export function expectedSha256(sums: string, fileName: string): string | undefined {
  for (const line of sums.split('\n')) {
    const match = /^([0-9a-f]{64}) [ *](.+)$/.exec(line.trim());
    if (match && match[2] === fileName) return match[1];
  }
  return undefined;
}
