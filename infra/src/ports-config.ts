import { z } from 'zod';
import type { PortMap } from './service';
import type { Profile } from './paths';
import { InfraError, InfraErrorCode } from './errors';

/** Each profile has its own port block, so tests can run while `up` is running. */
const DEFAULTS: Record<Profile, PortMap> = {
  dev: {
    temporal: 7233,
    temporalUi: 8233,
    temporalHttp: 7243,
    temporalMetrics: 7253,
    postgres: 15432,
    mariadb: 13306,
    redis: 16379,
    minio: 19000,
    minioConsole: 19001,
    gateway: 8700,
    console: 8710,
  },
  test: {
    temporal: 17233,
    temporalUi: 18233,
    temporalHttp: 17243,
    temporalMetrics: 17253,
    postgres: 25432,
    mariadb: 23306,
    redis: 26379,
    minio: 29000,
    minioConsole: 29001,
    gateway: 28700,
    console: 28710,
  },
  // `./vsc topology`: temporal is the server's frontend (its other services take the next seven ports,
  // temporal-server.ts), gateway is HAProxy's front (the three nodes take the next three). Below 32768,
  // like the others: Linux hands out the ports above as the local end of outgoing connections.
  topology: {
    temporal: 11233,
    temporalUi: 12233,
    temporalHttp: 11243,
    temporalMetrics: 11253,
    postgres: 21432,
    mariadb: 21306,
    redis: 21379,
    minio: 22000,
    minioConsole: 22001,
    gateway: 12700,
    console: 12710,
  },
};

const Port = z.coerce.number().int().min(1).max(65535);

/**
 * VSC_PORT_OFFSET shifts a profile's whole block (two clones testing side by side on one machine);
 * VSC_PORT_<NAME> (e.g. VSC_PORT_TEMPORAL_UI) then overrides one port.
 */
export function portsFor(profile: Profile, env: NodeJS.ProcessEnv = process.env): PortMap {
  const out = { ...DEFAULTS[profile] };
  const rawOffset = env.VSC_PORT_OFFSET;
  if (rawOffset !== undefined && rawOffset !== '') {
    const offset = z.coerce.number().int().min(0).max(20000).safeParse(rawOffset);
    if (!offset.success) {
      throw new InfraError(
        InfraErrorCode.badConfig,
        `VSC_PORT_OFFSET=${rawOffset} is not a whole number from 0 to 20000`,
      );
    }
    for (const key of Object.keys(out) as (keyof PortMap)[]) out[key] += offset.data;
  }
  for (const key of Object.keys(out) as (keyof PortMap)[]) {
    const name = `VSC_PORT_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    const parsed = Port.safeParse(raw);
    if (!parsed.success) {
      throw new InfraError(InfraErrorCode.badConfig, `${name}=${raw} is not a port number (1-65535)`);
    }
    out[key] = parsed.data;
  }
  return out;
}
