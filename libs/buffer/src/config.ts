import { z } from 'zod';
import type { BlobStore } from './blob-store';
import { parseTokenSecret } from './buffer-token';
import { DataBuffer } from './data-buffer';
import { BUFFER_PREFIX } from './internal/layout';
import { BufferKeyring, parseBufferKeys } from './keyring';
import { createLocalFolderStore } from './local-folder-store';
import { createS3Store } from './s3-store';

const DAY = 86_400;

// Validators report the setting's problem in words; they never put the value in the message.
const secretSetting = (parse: (v: string) => unknown) =>
  z.string().superRefine((value, ctx) => {
    try {
      parse(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
    }
  });
const booleanSetting = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

/**
 * The buffer's settings, read from the environment. Each is documented with its default; a
 * process embedding the buffer (the gateway) extends its own config with `BufferSettings.shape`
 * and applies `refineBufferSettings` so the rules across settings hold there too.
 */
export const BufferSettings = z.object({
  /** Where objects live: `local` (a folder, the embedded default) or `s3` (any S3 API). */
  VSC_BUFFER_STORE: z.enum(['local', 's3']).default('local'),
  /** Folder of the local store. No default here: the embedding process supplies one. */
  VSC_BUFFER_DIR: z.string().min(1).optional(),
  /** S3 endpoint for MinIO and other S3-compatible stores; unset for AWS. */
  VSC_BUFFER_S3_ENDPOINT: z
    .string()
    .regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, 'expected an http(s):// URL')
    .optional(),
  /** S3 region. */
  VSC_BUFFER_S3_REGION: z.string().min(1).default('us-east-1'),
  /** Bucket (created when missing, with a lifecycle rule expiring buffer/ after the TTL). Required with s3. */
  VSC_BUFFER_S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'expected an S3 bucket name (3-63 lowercase letters, digits, . and -)')
    .optional(),
  /** S3 access key id; with the secret below, or neither (then the SDK's default chain: instance role, profile…). */
  VSC_BUFFER_S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  /** S3 secret access key. */
  VSC_BUFFER_S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  /** Bucket in the URL path instead of the host name. Default: true when an endpoint is set (MinIO), else false. */
  VSC_BUFFER_S3_FORCE_PATH_STYLE: booleanSetting.optional(),
  /** Master keys `<id>:<base64 of 32 bytes>[,…]`: the first encrypts, the others only decrypt (rotation). Required. */
  VSC_BUFFER_KEYS: secretSetting(parseBufferKeys),
  /** HMAC secret of buffer access tokens, base64 of at least 32 bytes; the same on every gateway node. Required. */
  VSC_BUFFER_TOKEN_SECRET: secretSetting(parseTokenSecret),
  /** Lifetime of a buffer object in seconds (default 24 h); also the most a writer may ask for. */
  VSC_BUFFER_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .max(30 * DAY)
    .default(DAY),
});
export type BufferSettings = z.infer<typeof BufferSettings>;

/** The rules that span settings, for BufferConfig and for configs that embed BufferSettings. */
export function refineBufferSettings(
  c: Pick<
    BufferSettings,
    'VSC_BUFFER_STORE' | 'VSC_BUFFER_S3_BUCKET' | 'VSC_BUFFER_S3_ACCESS_KEY_ID' | 'VSC_BUFFER_S3_SECRET_ACCESS_KEY'
  >,
  ctx: z.RefinementCtx,
): void {
  if (c.VSC_BUFFER_STORE === 's3' && !c.VSC_BUFFER_S3_BUCKET) {
    ctx.addIssue({ code: 'custom', path: ['VSC_BUFFER_S3_BUCKET'], message: 'required when VSC_BUFFER_STORE is s3' });
  }
  if (!!c.VSC_BUFFER_S3_ACCESS_KEY_ID !== !!c.VSC_BUFFER_S3_SECRET_ACCESS_KEY) {
    ctx.addIssue({
      code: 'custom',
      path: ['VSC_BUFFER_S3_ACCESS_KEY_ID'],
      message: 'set both VSC_BUFFER_S3_ACCESS_KEY_ID and VSC_BUFFER_S3_SECRET_ACCESS_KEY, or neither',
    });
  }
}

export const BufferConfig = BufferSettings.superRefine(refineBufferSettings);
export type BufferConfig = z.infer<typeof BufferConfig>;

export function loadBufferConfig(env: NodeJS.ProcessEnv = process.env): BufferConfig {
  const parsed = BufferConfig.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`invalid buffer configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

/**
 * Opens the store a config describes: an S3 bucket (created when missing, with the lifecycle rule
 * that expires `buffer/` after the objects' lifetime; nothing else in the bucket expires) or a local
 * folder (`defaultDir` when VSC_BUFFER_DIR is unset). The buffer and other users of the same store
 * (the SDK factory's artifact registry, under `artifacts/`) open it through here.
 */
export async function openBufferStore(
  config: BufferSettings,
  options: { defaultDir?: string } = {},
): Promise<BlobStore> {
  const ttl = config.VSC_BUFFER_TTL_SECONDS;
  if (config.VSC_BUFFER_STORE === 's3') {
    if (!config.VSC_BUFFER_S3_BUCKET) throw new Error('VSC_BUFFER_S3_BUCKET: required when VSC_BUFFER_STORE is s3');
    const store = createS3Store({
      endpoint: config.VSC_BUFFER_S3_ENDPOINT,
      region: config.VSC_BUFFER_S3_REGION,
      bucket: config.VSC_BUFFER_S3_BUCKET,
      accessKeyId: config.VSC_BUFFER_S3_ACCESS_KEY_ID,
      secretAccessKey: config.VSC_BUFFER_S3_SECRET_ACCESS_KEY,
      forcePathStyle: config.VSC_BUFFER_S3_FORCE_PATH_STYLE ?? !!config.VSC_BUFFER_S3_ENDPOINT,
    });
    try {
      await store.ensureBucket({ prefix: BUFFER_PREFIX, expireAfterDays: Math.ceil(ttl / DAY) });
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }
  const dir = config.VSC_BUFFER_DIR ?? options.defaultDir;
  if (!dir) throw new Error('VSC_BUFFER_DIR: required when VSC_BUFFER_STORE is local');
  return createLocalFolderStore(dir);
}

/**
 * Opens the buffer a config describes (its store through openBufferStore). `defaultDir` is the local
 * folder when VSC_BUFFER_DIR is unset.
 */
export async function openDataBuffer(
  config: BufferSettings,
  options: { defaultDir?: string; now?: () => number } = {},
): Promise<DataBuffer> {
  const keyring = BufferKeyring.fromSpec(config.VSC_BUFFER_KEYS);
  const store = await openBufferStore(config, options);
  return new DataBuffer({ store, keyring, defaultTtlSeconds: config.VSC_BUFFER_TTL_SECONDS, now: options.now });
}
