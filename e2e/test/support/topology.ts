import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { testServices, type TestServices } from '@vansales/test-kit';

const repoRoot = join(__dirname, '..', '..', '..');

/** What `./vsc topology` writes beside services.json (infra/src/commands/topology.ts). */
interface TopologyFile {
  loadBalancer: string;
  nodes: { name: string; url: string; pidFile: string }[];
  cloudWorkers: number;
}
const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;

export interface Topology {
  services: TestServices;
  loadBalancer: string;
  nodes: { name: string; url: string; pid(): number }[];
  adminToken: string;
  payloadKeys: string;
  /** The gateway's REST through the load balancer, as the admin. */
  api<T = unknown>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: T }>;
  /** Everything `./vsc topology` printed, for a failure message. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Runs `./vsc topology` (the built CLI, infra/dist) as a child, in this run's port block
 * (VSC_PORT_OFFSET) and state folder, until it says it is up; `stop` ends it as Ctrl-C would.
 */
export async function startTopology(timeoutMs: number): Promise<Topology> {
  const out: string[] = [];
  const child: ChildProcess = spawn(process.execPath, [join(repoRoot, 'infra', 'dist', 'cli.js'), 'topology'], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: process.env,
  });
  child.stdout!.on('data', (d: Buffer) => out.push(d.toString()));
  child.stderr!.on('data', (d: Buffer) => out.push(d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await exited;
  };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`./vsc topology not up in ${timeoutMs} ms:\n${out.join('')}`)),
      timeoutMs,
    );
    const check = () => {
      if (/topology is up/.test(out.join(''))) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`./vsc topology exited with ${code} before it was up:\n${out.join('')}`));
    });
  }).catch(async (err) => {
    await stop();
    throw err;
  });
  const services = testServices('topology');
  const file = readJson<TopologyFile>(join(services.stateDir, 'topology.json'));
  const secrets = readJson<{ adminToken: string; payloadKeys: string }>(join(services.stateDir, 'secrets.json'));
  return {
    services,
    loadBalancer: file.loadBalancer,
    nodes: file.nodes.map((n) => ({
      name: n.name,
      url: n.url,
      pid: () => Number(readFileSync(n.pidFile, 'utf8').split('\n')[0]),
    })),
    adminToken: secrets.adminToken,
    payloadKeys: secrets.payloadKeys,
    async api(method, path, body) {
      const res = await fetch(`${file.loadBalancer}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${secrets.adminToken}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as never };
    },
    output: () => out.join(''),
    stop,
  };
}
