import { createHash } from 'node:crypto';
import { createWriteStream, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import {
  agentExecutableName,
  AgentReleaseSums,
  agentUpdateFilePath,
  agentUpdateSumsPath,
  type AgentUpdateOffer,
} from '@vansales/protocol';
import type { GatewayAuth } from '../gateway-auth';
import { expectedSha256, verifyReleaseSignature } from '../release/release-keys';

/** Why an offered update was not taken: said in the log and the update state, never retried. */
export class UpdateRefusedError extends Error {
  override name = 'UpdateRefusedError';
}

const TIMEOUT_MS = 120_000;

/** One GET to the agent's own gateway with a fresh proof of its key pair. */
async function get(auth: GatewayAuth, path: string): Promise<IncomingMessage> {
  const proven = await auth.proven();
  const url = new URL(path, auth.origin);
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
      url,
      {
        method: 'GET',
        headers: proven.headers,
        ...(url.protocol === 'https:' && auth.ca ? { ca: auth.ca } : {}),
        // Through the site's proxy like every other call to the gateway (connector-agent README "Proxies").
        ...(auth.network.agent ? { agent: auth.network.agent } : {}),
        timeout: TIMEOUT_MS,
      },
      resolve,
    );
    req.on('timeout', () => req.destroy(new Error(`the gateway did not answer in ${TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end();
  });
}

async function readSmall(res: IncomingMessage, max: number): Promise<string> {
  let text = '';
  for await (const chunk of res) {
    text += (chunk as Buffer).toString('utf8');
    if (text.length > max) throw new UpdateRefusedError(`the gateway's answer passed ${max} bytes`);
  }
  return text;
}

/**
 * The release's SHA256SUMS, once its signature verifies under `keys` and it gives the offered
 * executable the offered sha256: what the rest of the update checks the bytes against.
 */
export async function fetchVerifiedSums(auth: GatewayAuth, offer: AgentUpdateOffer, keys: readonly string[]) {
  const res = await get(auth, agentUpdateSumsPath(offer.version));
  const text = await readSmall(res, 64 * 1024);
  if (res.statusCode !== 200)
    throw new Error(`the gateway answered ${res.statusCode} for the sums of ${offer.version}: ${text.slice(0, 300)}`);
  const parsed = AgentReleaseSums.safeParse(JSON.parse(text));
  if (!parsed.success || parsed.data.version !== offer.version)
    throw new UpdateRefusedError(`the gateway's sums of ${offer.version} are not a release's sums`);
  const { sums, signature } = parsed.data;
  if (keys.length === 0)
    throw new UpdateRefusedError(
      'this build pins no release key (PRODUCTION_RELEASE_KEYS is empty, and the site policy does not allow the development key)',
    );
  if (!verifyReleaseSignature(Buffer.from(sums), Buffer.from(signature, 'base64'), keys))
    throw new UpdateRefusedError(
      `the signature of release ${offer.version} does not verify under the release keys this agent pins`,
    );
  const signed = expectedSha256(sums, agentExecutableName(offer.platform));
  if (signed !== offer.sha256)
    throw new UpdateRefusedError(
      `the signed sums give ${agentExecutableName(offer.platform)} sha256 ${signed ?? '(none)'}, not the offered ${offer.sha256}`,
    );
  return signed;
}

/**
 * Downloads the offered executable to `target` (0700) and checks its size and sha256 against the
 * signed sum; a mismatch removes the file and refuses the update.
 */
export async function downloadExecutable(
  auth: GatewayAuth,
  offer: AgentUpdateOffer,
  signedSha256: string,
  target: string,
): Promise<void> {
  const res = await get(auth, agentUpdateFilePath(offer.version, offer.platform));
  if (res.statusCode !== 200) {
    const text = await readSmall(res, 64 * 1024).catch(() => '');
    throw new Error(
      `the gateway answered ${res.statusCode} for the ${offer.platform} executable: ${text.slice(0, 300)}`,
    );
  }
  const hash = createHash('sha256');
  let size = 0;
  const out = createWriteStream(target, { mode: 0o700 });
  try {
    for await (const chunk of res) {
      size += (chunk as Buffer).length;
      if (size > offer.size) throw new UpdateRefusedError(`the download passed the offered ${offer.size} bytes`);
      hash.update(chunk as Buffer);
      if (!out.write(chunk)) await new Promise((r) => out.once('drain', r));
    }
    await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    const sha256 = hash.digest('hex');
    if (sha256 !== signedSha256 || size !== offer.size)
      throw new UpdateRefusedError(
        `the downloaded executable (${size} bytes) has sha256 ${sha256}, not the signed ${signedSha256}: corrupted or tampered with on the way`,
      );
  } catch (err) {
    out.destroy();
    rmSync(target, { force: true });
    throw err;
  }
}
