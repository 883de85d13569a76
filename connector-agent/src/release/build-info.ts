import { AGENT_VERSION } from '../agent';

// Set by the release build (infra/src/release/agent-release.ts, esbuild `define`); absent in a build
// from the sources (tsup, jest), which then says so rather than guessing a commit.
declare const __VSC_AGENT_COMMIT__: string | undefined;

export const AGENT_COMMIT: string = typeof __VSC_AGENT_COMMIT__ === 'string' ? __VSC_AGENT_COMMIT__ : 'unreleased';

/** What `mini-connector --version` prints: enough for a support ticket to name the exact build. */
export function versionText(): string {
  return [
    `mini-connector ${AGENT_VERSION}`,
    `commit: ${AGENT_COMMIT}`,
    `runtime: node ${process.version}`,
    `platform: ${process.platform}-${process.arch}`,
  ].join('\n');
}
