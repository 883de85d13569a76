import { agentCommands, passwordEnv } from '../src/marketplace/agent-command';

const sakila = {
  name: 'sakila',
  dialect: 'mysql',
  host: '10.0.0.5',
  port: 3306,
  user: 'reader',
  database: 'sakila',
} as const;
const erp = {
  name: 'erp-main',
  dialect: 'postgres',
  host: 'db.local',
  port: 5432,
  user: 'ro',
  database: 'erp',
} as const;

describe('the site commands the marketplace shows (mini-connector init and run)', () => {
  const lines = agentCommands(
    { dir: '/etc/vansales', databases: [sakila, erp] },
    'wss://gw.example.com/v1/agent/connect',
    'vmc_t_key',
  );

  it('takes the key and every password from the environment, one read -rs per database, none on the command line', () => {
    expect(lines[0]).toBe("export VSC_API_KEY='vmc_t_key'");
    expect(lines.filter((l) => l.startsWith('read -rs '))).toEqual([
      'read -rs SAKILA_PASSWORD && export SAKILA_PASSWORD',
      'read -rs ERP_MAIN_PASSWORD && export ERP_MAIN_PASSWORD',
    ]);
    expect(passwordEnv('erp.main-2')).toBe('ERP_MAIN_2_PASSWORD');
    expect(lines.join('\n')).not.toMatch(/password=/);
  });

  it('names one --database per database, then runs the agent with the config init wrote (the e2e runs both lines)', () => {
    const init = lines.find((l) => l.startsWith('mini-connector init '))!.split(' ');
    expect(init.filter((w) => w === '--database')).toHaveLength(2);
    expect(init).toEqual(
      expect.arrayContaining([
        '--non-interactive',
        '--api-key-env',
        'VSC_API_KEY',
        'name=sakila,dialect=mysql,host=10.0.0.5,port=3306,user=reader,database=sakila,password-env=SAKILA_PASSWORD',
      ]),
    );
    expect(lines.at(-1)).toBe('mini-connector run --config /etc/vansales/agent.json');
  });
});
