import { chownSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { ensureAptPackages } from '../install';
import type { ServiceContext, ServiceSpec } from '../service';
import { dropTo, privateDir } from './system-user';

export function redisUrl(ctx: Pick<ServiceContext, 'ports' | 'secrets'>): string {
  return `redis://:${encodeURIComponent(ctx.secrets.redisPassword)}@127.0.0.1:${ctx.ports.redis}/0`;
}

export const redisService: ServiceSpec = {
  name: 'redis',
  ports: (ctx) => [ctx.ports.redis],
  readyTimeoutMs: 15_000,
  install(ctx) {
    ensureAptPackages([{ probe: 'redis-server', pkg: 'redis-server' }], ctx.log);
  },
  prepare(ctx) {
    // As root, Redis runs as Debian's `redis` user, in a folder only that user can open.
    const owner = dropTo('redis');
    const dir = join(ctx.stateDir, 'redis');
    privateDir(dir, owner);
    // The password goes in a 0600 config file, not on the command line where `ps` would show it.
    writeFileSync(
      join(dir, 'redis.conf'),
      [
        `port ${ctx.ports.redis}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `requirepass ${ctx.secrets.redisPassword}`,
        'save 60 1000',
        'appendonly no',
        'daemonize no',
      ].join('\n') + '\n',
      { mode: 0o600 },
    );
    if (owner) chownSync(join(dir, 'redis.conf'), owner.uid, owner.gid);
  },
  launch(ctx) {
    return { command: 'redis-server', args: [join(ctx.stateDir, 'redis', 'redis.conf')], user: dropTo('redis') };
  },
  async ready(ctx) {
    const client = new Redis(redisUrl(ctx), { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined); // not up yet: ready() is polled again
    try {
      await client.connect();
      return (await client.ping()) === 'PONG';
    } finally {
      client.disconnect();
    }
  },
};
