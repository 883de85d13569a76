import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DoctorReport, DOCTOR_LIMITS } from '@vansales/protocol';
import { runDoctorChecks, type DoctorDeps } from '../src/doctor/doctor-checks';
import type { SiteDatabase } from '../src/site-database/site-database';

/** A site database whose privilege check answers as given (the real ones are in the e2e test). */
const fakeDatabase = (privileges: SiteDatabase['privileges']) => ({ privileges }) as unknown as SiteDatabase;

describe('the doctor checks a running agent reports', () => {
  const base = (over: Partial<DoctorDeps> = {}): DoctorDeps => ({
    databaseNames: [],
    database: () => undefined,
    nodeVersion: '26.10.0',
    homeDir: '/nonexistent-home',
    ...over,
  });
  const checksOf = async (deps: DoctorDeps, ctx = {}) =>
    (await runDoctorChecks(deps, ctx)).warnings.map((w) => `${w.check}:${w.severity}`);

  it('reports nothing when all is well, in a report the protocol accepts', async () => {
    const report = await runDoctorChecks(base(), { gatewayTime: new Date().toISOString() });
    expect(report.warnings).toEqual([]);
    expect(DoctorReport.parse(report)).toEqual(report);
  });

  it('names a clock more than 30 s off the gateway, ahead or behind', async () => {
    const now = Date.parse('2026-12-03T12:00:00Z');
    const deps = base({ now: () => now });
    expect(await checksOf(deps, { gatewayTime: '2026-12-03T11:59:40Z' })).toEqual([]);
    const ahead = await runDoctorChecks(deps, { gatewayTime: '2026-12-03T11:58:00Z' });
    expect(ahead.warnings[0]).toMatchObject({ check: 'clock.skew', message: expect.stringMatching(/120 s ahead of/) });
    const behind = await runDoctorChecks(deps, { gatewayTime: '2026-12-03T12:01:00Z' });
    expect(behind.warnings[0]!.message).toMatch(/60 s behind/);
  });

  it('names an older Node.js than the released one', async () => {
    expect(await checksOf(base({ nodeVersion: '22.4.1' }))).toEqual(['runtime.version:warning']);
    expect(await checksOf(base({ nodeVersion: '27.0.0' }))).toEqual([]);
  });

  it('names a login that can write, and a database it cannot check, by code only', async () => {
    const deps = base({
      databaseNames: ['erp', 'down'],
      database: (name) =>
        name === 'erp'
          ? fakeDatabase(async () => ({
              canWrite: true,
              findings: ['INSERT on erp.*'],
              recommendation: 'GRANT SELECT',
            }))
          : fakeDatabase(async () => {
              throw Object.assign(new Error("Access denied for user 'app'@'10.0.0.5'"), {
                code: 'ER_ACCESS_DENIED_ERROR',
              });
            }),
    });
    const report = await runDoctorChecks(deps);
    expect(report.warnings.map((w) => [w.check, w.database])).toEqual([
      ['database.can-write', 'erp'],
      ['database.unreachable', 'down'],
    ]);
    expect(report.warnings[0]!.action).toContain('GRANT SELECT');
    // The driver's message names the login and the host: only its code leaves the site.
    expect(report.warnings[1]!.message).toBe('database down could not be checked: ER_ACCESS_DENIED_ERROR');
  });

  it('names a broken policy file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vsc-doctor-policy-'));
    writeFileSync(join(dir, 'policy.json'), '{"writableTables": 3}');
    const report = await runDoctorChecks(base({ policyFile: join(dir, 'policy.json') }));
    expect(report.warnings).toEqual([
      expect.objectContaining({
        check: 'policy.invalid',
        severity: 'error',
        message: expect.stringContaining('invalid'),
      }),
    ]);
    expect(await checksOf(base({ policyFile: join(dir, 'absent.json') }))).toEqual([]);
  });

  it('names a vault key or folder others can read, and state kept in a home folder', async () => {
    const home = mkdtempSync(join(tmpdir(), 'vsc-doctor-home-'));
    const stateDir = join(home, 'agent');
    mkdirSync(stateDir, { mode: 0o700 });
    writeFileSync(join(stateDir, 'vault.key'), Buffer.alloc(32), { mode: 0o600 });
    expect(await checksOf(base({ stateDir, homeDir: home }))).toEqual(['state.home-folder:info']);
    chmodSync(join(stateDir, 'vault.key'), 0o644);
    chmodSync(stateDir, 0o755);
    expect(await checksOf(base({ stateDir, homeDir: '/nonexistent-home' }))).toEqual([
      'vault.permissions:error',
      'state.permissions:warning',
    ]);
  });

  it('keeps within the protocol bounds whatever the checks find', async () => {
    const names = Array.from({ length: DOCTOR_LIMITS.warnings + 5 }, (_, i) => `db${i}`);
    const report = await runDoctorChecks(
      base({
        databaseNames: names,
        database: () =>
          fakeDatabase(async () => ({
            canWrite: true,
            findings: ['x'.repeat(5000)],
            recommendation: 'y'.repeat(5000),
          })),
      }),
    );
    expect(report.warnings).toHaveLength(DOCTOR_LIMITS.warnings);
    expect(DoctorReport.safeParse(report).success).toBe(true);
  });
});
