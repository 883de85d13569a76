import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { SitePolicyFile, SiteUpdatePolicy } from '../src/policy/site-policy';
import { createUpdater, readUpdateState, settleSwitchAtStart, writeUpdateState } from '../src/update';
import type { GatewayAuth } from '../src/gateway-auth';

// The decisions of signed updates that need no gateway: the site policy's modes, a version that
// failed before, and what a start after a switch does. The whole update with real builds and a real
// gateway: e2e/test/agent-update.int.test.ts.
const offer = { version: '1.2.3', platform: 'linux-x64' as const, sha256: 'a'.repeat(64), size: 10 };

describe('agent updates: policy and the state file', () => {
  let dir: string;
  let lines: string[];
  let log: pino.Logger;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vsc-update-'));
    lines = [];
    log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const updaterWith = (updates: Record<string, unknown>) => {
    const auth = {
      proven: () => Promise.reject(new Error('no gateway in this test')),
    } as unknown as GatewayAuth;
    return createUpdater({
      agent: { pause: async () => undefined, resume: () => undefined },
      auth,
      log,
      executable: join(dir, 'mini-connector'),
      args: ['run'],
      statePath: join(dir, 'update-state.json'),
      version: '1.2.2',
      policy: () => SiteUpdatePolicy.parse(updates),
      trustedKeys: () => [],
    });
  };

  it('defaults to taking the approved version, and a pin needs its version', () => {
    expect(SitePolicyFile.parse({}).updates).toEqual({
      mode: 'approved',
      allowDevelopmentKey: false,
      connectDeadlineSeconds: 120,
    });
    expect(SiteUpdatePolicy.safeParse({ mode: 'pinned' }).error?.issues[0]?.message).toMatch(/needs updates.version/);
    expect(SiteUpdatePolicy.safeParse({ mode: 'sometimes' }).success).toBe(false);
  });

  it('does not update when the site turned updates off or pinned another version', async () => {
    await updaterWith({ mode: 'off' }).offer(offer);
    await updaterWith({ mode: 'pinned', version: '1.2.2' }).offer(offer);
    expect(lines.join('')).toContain('not updating to 1.2.3: updates are off in the site policy');
    expect(lines.join('')).toContain('not updating to 1.2.3: the site policy pins version 1.2.2');
    expect(existsSync(join(dir, 'update-state.json'))).toBe(false);
  });

  it('does not try again a version that failed here, and tries again after a gateway error', async () => {
    await updaterWith({}).offer(offer);
    expect(lines.join('')).toContain('could not update to 1.2.3: no gateway in this test');
    writeUpdateState(join(dir, 'update-state.json'), {
      failed: [{ version: '1.2.3', at: new Date().toISOString(), reason: 'bad signature' }],
    });
    await updaterWith({}).offer(offer);
    expect(lines.join('')).toContain('not updating to 1.2.3: it failed here before (bad signature)');
  });

  it('confirms a switched version on its first start, and sends a second unconfirmed start back', async () => {
    const statePath = join(dir, 'update-state.json');
    const executable = join(dir, 'mini-connector');
    writeFileSync(executable, 'new');
    writeFileSync(`${executable}.previous`, 'old');
    writeUpdateState(statePath, { failed: [], switched: { from: '1.2.2', to: '1.2.3', at: 'now', starts: 0 } });
    const restarts: string[] = [];
    const restart = ((path: string) => {
      restarts.push(readFileSync(path, 'utf8'));
      return Promise.reject(new Error('restarted'));
    }) as never;
    const opts = { executable, args: ['run'], statePath, version: '1.2.3', log, restart };

    const first = await settleSwitchAtStart(opts);
    expect(first.pending).toBe(true);
    expect(readUpdateState(statePath).switched?.starts).toBe(1);
    // It died before connecting; its next start goes back to the previous executable and execs it.
    await expect(settleSwitchAtStart(opts)).rejects.toThrow('restarted');
    expect(restarts).toEqual(['old']);
    expect(readUpdateState(statePath).switched).toBeUndefined();
    expect(readUpdateState(statePath)).toMatchObject({
      failed: [{ version: '1.2.3', reason: 'started before without connecting to the gateway' }],
      last: { version: '1.2.3', outcome: 'rolled-back' },
    });

    writeUpdateState(statePath, { failed: [], switched: { from: '1.2.2', to: '1.2.3', at: 'now', starts: 0 } });
    const again = await settleSwitchAtStart(opts);
    if (!again.pending) throw new Error('expected a pending switch');
    again.confirm();
    expect(readUpdateState(statePath).switched).toBeUndefined();
    expect(readUpdateState(statePath).last).toMatchObject({ version: '1.2.3', outcome: 'updated' });
  });
});
