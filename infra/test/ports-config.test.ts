import { portsFor } from '../src/ports-config';

describe('portsFor', () => {
  it('shifts the whole block by VSC_PORT_OFFSET, then applies one-port overrides', () => {
    const base = portsFor('test', {});
    const shifted = portsFor('test', { VSC_PORT_OFFSET: '100', VSC_PORT_TEMPORAL_UI: '9999' });
    expect(shifted.temporal).toBe(base.temporal + 100);
    expect(shifted.gateway).toBe(base.gateway + 100);
    expect(shifted.temporalUi).toBe(9999);
  });

  it('refuses an offset or a port that is not a number, naming the variable', () => {
    expect(() => portsFor('test', { VSC_PORT_OFFSET: 'ten' })).toThrow(/VSC_PORT_OFFSET=ten/);
    expect(() => portsFor('dev', { VSC_PORT_GATEWAY: '70000' })).toThrow(/VSC_PORT_GATEWAY=70000/);
  });
});
