import type { SiteDialect } from './built-ins';

/** What the site's administrator tells the console about one database (no password: that stays on the site). */
export interface SiteDatabaseAnswers {
  name: string;
  dialect: SiteDialect;
  host: string;
  port: number;
  user: string;
  database: string;
}

/** Environment variable names the commands read secrets from (never argv, which `ps` shows). */
export const API_KEY_ENV = 'VSC_API_KEY';
export const passwordEnv = (databaseName: string) =>
  `${databaseName.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_PASSWORD`;

/**
 * The exact commands to run on the site (connector-agent/README.md): `init --non-interactive`
 * takes the API key and each database's password from environment variables, stores them in the
 * site's vault and enrols the agent's key pair; `run` starts the agent. Passwords are never asked
 * for here: `read -rs` asks for each in the site's shell, without echo.
 */
export function agentCommands(
  site: { dir: string; databases: SiteDatabaseAnswers[] },
  gatewayUrl: string,
  apiKey: string,
): string[] {
  const flags = site.databases.map((d) =>
    [
      `--database name=${d.name}`,
      `dialect=${d.dialect}`,
      `host=${d.host}`,
      `port=${d.port}`,
      `user=${d.user}`,
      `database=${d.database}`,
      `password-env=${passwordEnv(d.name)}`,
    ].join(','),
  );
  return [
    `export ${API_KEY_ENV}='${apiKey}'`,
    ...site.databases.map((d) => `read -rs ${passwordEnv(d.name)} && export ${passwordEnv(d.name)}`),
    `mini-connector init --non-interactive --dir ${site.dir} --gateway-url ${gatewayUrl} --api-key-env ${API_KEY_ENV} ${flags.join(' ')}`,
    `mini-connector run --config ${site.dir}/agent.json`,
  ];
}
