import type { SiteDialect } from './built-ins';

/** What the site's administrator tells the console about the database (no password: that stays on the site). */
export interface SiteDatabaseAnswers {
  name: string;
  dialect: SiteDialect;
  host: string;
  port: number;
  user: string;
  database: string;
  dir: string;
}

/** Environment variable names the commands read secrets from (never argv, which `ps` shows). */
export const API_KEY_ENV = 'VSC_API_KEY';
export const passwordEnv = (databaseName: string) =>
  `${databaseName.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_PASSWORD`;

/**
 * The exact commands to run on the site (connector-agent/README.md): `init --non-interactive`
 * takes the API key and the database password from environment variables, stores them in the
 * site's vault and enrols the agent's key pair; `run` starts the agent. The password is never
 * asked for here: the site's administrator sets it in the shell on the site.
 */
export function agentCommands(answers: SiteDatabaseAnswers, gatewayUrl: string, apiKey: string): string[] {
  const db = [
    `name=${answers.name}`,
    `dialect=${answers.dialect}`,
    `host=${answers.host}`,
    `port=${answers.port}`,
    `user=${answers.user}`,
    `database=${answers.database}`,
    `password-env=${passwordEnv(answers.name)}`,
  ].join(',');
  return [
    `export ${API_KEY_ENV}='${apiKey}'`,
    `read -rs ${passwordEnv(answers.name)} && export ${passwordEnv(answers.name)}`,
    `mini-connector init --non-interactive --dir ${answers.dir} --gateway-url ${gatewayUrl} --api-key-env ${API_KEY_ENV} --database ${db}`,
    `mini-connector run --config ${answers.dir}/agent.json`,
  ];
}
