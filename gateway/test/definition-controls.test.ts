import { ScheduleOverlapPolicy } from '@temporalio/client';
import type { ControlFlagRow } from '@vansales/metadata';
import { connectorIdsOf, DEFINITION_FORMAT, DefinitionDocument } from '@vansales/definitions';
import { controlFor, describeFlag, flagsApplying } from '../src/services/control-flags';
import { durationMs, OVERLAP_POLICY, scheduleSpecOf } from '../src/services/definition-schedules';

const flag = (over: Partial<ControlFlagRow>): ControlFlagRow => ({
  tenantId: 'acme',
  scope: 'definition',
  targetId: 'orders',
  state: 'paused',
  setBy: 'admin:alice',
  reason: 'maintenance',
  setAt: new Date('2026-12-03T04:00:00Z'),
  ...over,
});
const target = { tenantId: 'acme', definitionId: 'orders', connectorIds: ['hq'] };

describe('which control flags apply to a run', () => {
  it.each([
    ['its definition', flag({}), true],
    ['another definition', flag({ targetId: 'invoices' }), false],
    ['a connector it touches', flag({ scope: 'connector', targetId: 'hq' }), true],
    ['a connector it does not touch', flag({ scope: 'connector', targetId: 'branch' }), false],
    ['its tenant', flag({ scope: 'tenant', targetId: 'acme' }), true],
    ["another tenant's flag on the same names", flag({ tenantId: 'other', scope: 'tenant', targetId: 'acme' }), false],
  ])('%s', (_what, f, applies) => {
    expect(flagsApplying([f], target)).toEqual(applies ? [f] : []);
  });

  it('a stop outranks a pause, whatever the order; no flag means resume', () => {
    const pause = flag({ scope: 'tenant', targetId: 'acme' });
    const stop = flag({ scope: 'connector', targetId: 'hq', state: 'stopped' });
    expect(controlFor([pause, stop], target)).toEqual({ action: 'stop', flag: stop });
    expect(controlFor([pause], target)).toEqual({ action: 'pause', flag: pause });
    expect(controlFor([], target)).toEqual({ action: 'resume' });
  });

  it('names the flag, its scope, who set it and when', () => {
    expect(describeFlag(flag({ state: 'stopped', scope: 'connector', targetId: 'hq' }))).toBe(
      'emergency stop of connector hq set by admin:alice at 2026-12-03T04:00:00.000Z (maintenance)',
    );
  });
});

describe('schedule triggers as Temporal Schedules', () => {
  it('maps every overlap policy of the model explicitly', () => {
    expect(OVERLAP_POLICY).toEqual({
      skip: ScheduleOverlapPolicy.SKIP,
      'buffer-one': ScheduleOverlapPolicy.BUFFER_ONE,
      'buffer-all': ScheduleOverlapPolicy.BUFFER_ALL,
      'cancel-other': ScheduleOverlapPolicy.CANCEL_OTHER,
      'terminate-other': ScheduleOverlapPolicy.TERMINATE_OTHER,
      'allow-all': ScheduleOverlapPolicy.ALLOW_ALL,
    });
  });

  it('reads durations and specs', () => {
    expect([durationMs('250ms'), durationMs('30s'), durationMs('5m'), durationMs('2h'), durationMs('1d')]).toEqual([
      250, 30_000, 300_000, 7_200_000, 86_400_000,
    ]);
    expect(() => durationMs('1 year')).toThrow(/not a duration/);
    const base = { kind: 'schedule', catchupWindow: '1m', overlap: 'skip', timezone: 'Europe/Paris' } as const;
    expect(scheduleSpecOf({ ...base, cron: '0 2 * * *' })).toEqual({
      cronExpressions: ['0 2 * * *'],
      timezone: 'Europe/Paris',
    });
    expect(scheduleSpecOf({ ...base, every: '15m' })).toEqual({ intervals: [{ every: 900_000 }] });
    expect(() => scheduleSpecOf(base)).toThrow(/cron or an interval/);
  });
});

describe('connectorIdsOf', () => {
  it('lists every connector of steps, for-each bodies and site-event triggers, once, sorted', () => {
    const doc = DefinitionDocument.parse({
      format: DEFINITION_FORMAT,
      name: 'x',
      triggers: [
        {
          kind: 'site-event',
          connectorId: 'z-site',
          database: 'erp',
          table: { name: 't' },
          cursorColumn: 'id',
          keyColumns: ['id'],
        },
      ],
      steps: [
        { id: 'a', kind: 'source', db: { endpoint: { kind: 'site-db', connectorId: 'hq', database: 'erp' } } },
        {
          id: 'b',
          kind: 'for-each',
          over: 'records',
          body: {
            steps: [
              {
                id: 'c',
                kind: 'destination',
                http: { endpoint: { kind: 'site-api', connectorId: 'branch', api: 'orders' }, path: '/o' },
              },
            ],
            edges: [],
          },
        },
        {
          id: 'd',
          kind: 'destination',
          db: {
            endpoint: { kind: 'site-db', connectorId: 'hq', database: 'dw' },
            table: { name: 't' },
            keyColumns: ['id'],
          },
        },
      ],
      edges: [],
    });
    expect(connectorIdsOf(doc)).toEqual(['branch', 'hq', 'z-site']);
  });
});
