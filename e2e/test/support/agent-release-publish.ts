import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { agentExecutableName, type AgentPlatform } from '@vansales/protocol';
import type { Platform } from './harness';

/**
 * The platform operator's side of signed agent updates (issue 13 §5), over the gateway's REST routes
 * with the admin token: register a release's sums and signature, upload its executables.
 */
export async function registerAgentRelease(
  platform: Platform,
  version: string,
  release: { sums: string; signature: Buffer; notes?: string },
): Promise<void> {
  const res = await platform.api('PUT', `/v1/agent-releases/${version}`, {
    sums: release.sums,
    signature: release.signature.toString('base64'),
    ...(release.notes === undefined ? {} : { notes: release.notes }),
  });
  expect(res.status).toBe(200);
}

export async function uploadAgentExecutable(
  platform: Platform,
  version: string,
  bytes: Buffer,
  agentPlatform: AgentPlatform = 'linux-x64',
): Promise<void> {
  const http = new URL(platform.gatewayWsUrl.replace(/^ws/, 'http')).origin;
  const res = await fetch(`${http}/v1/agent-releases/${version}/${agentPlatform}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${platform.adminToken}`, 'content-type': 'application/octet-stream' },
    body: new Uint8Array(bytes),
  });
  expect(res.status).toBe(200);
}

/**
 * A release for tests of what people see (the console): small stand-in executables, their sums and a
 * signature by a throwaway key, registered and uploaded as the operator does. The gateway accepts it
 * (it checks sums, not signatures); no agent would run it (its pinned keys refuse the signature).
 */
export async function publishStandInRelease(
  platform: Platform,
  version: string,
  options: { notes?: string; platforms?: AgentPlatform[] } = {},
): Promise<{ sums: string; signature: Buffer }> {
  const platforms = options.platforms ?? ['linux-x64'];
  const files = platforms.map((p) => ({ platform: p, bytes: randomBytes(4096) }));
  const sums = files
    .map((f) => `${createHash('sha256').update(f.bytes).digest('hex')}  ${agentExecutableName(f.platform)}\n`)
    .join('');
  const { privateKey } = generateKeyPairSync('ed25519');
  const signature = sign(null, Buffer.from(sums), privateKey);
  await registerAgentRelease(platform, version, { sums, signature, notes: options.notes });
  for (const f of files) await uploadAgentExecutable(platform, version, f.bytes, f.platform);
  return { sums, signature };
}
