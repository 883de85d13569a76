import type { Logger } from './install';
import type { Secrets } from './secrets';
import type { Profile } from './paths';

export interface ServiceContext {
  profile: Profile;
  /** Folder of this profile (data, logs, pid files). */
  stateDir: string;
  ports: PortMap;
  secrets: Secrets;
  log: Logger;
}

export interface PortMap {
  temporal: number;
  temporalUi: number;
  temporalHttp: number;
  temporalMetrics: number;
  postgres: number;
  mariadb: number;
  redis: number;
  minio: number;
  minioConsole: number;
  gateway: number;
  /** The web console's Next.js server. */
  console: number;
}

export interface LaunchSpec {
  command: string;
  args: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** Drop to this user when the supervisor runs as root (PostgreSQL refuses to run as root). */
  user?: { uid: number; gid: number };
}

/** One child process the supervisor installs, prepares, starts, probes and stops. */
export interface ServiceSpec {
  name: string;
  /** Ports this service listens on, checked free before it starts. */
  ports(ctx: ServiceContext): number[];
  install?(ctx: ServiceContext): Promise<void> | void;
  prepare?(ctx: ServiceContext): Promise<void> | void;
  launch(ctx: ServiceContext): LaunchSpec;
  ready(ctx: ServiceContext): Promise<boolean>;
  readyTimeoutMs: number;
  afterReady?(ctx: ServiceContext): Promise<void>;
  /** How long to wait after SIGTERM before SIGKILL. */
  stopTimeoutMs?: number;
}
