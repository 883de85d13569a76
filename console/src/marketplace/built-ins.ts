/**
 * The built-in aggregators of the marketplace. Databases are reached only through a mini connector
 * on the site (their credentials stay in its vault); HTTP/OpenAPI APIs are registered by their spec.
 */
export type SiteDialect = 'mysql' | 'postgres' | 'mssql';

export interface SiteAggregator {
  kind: 'site';
  id: string;
  title: string;
  dialect: SiteDialect;
  defaultPort: number;
  summary: string;
}
export interface ApiAggregator {
  kind: 'api';
  id: string;
  title: string;
  summary: string;
}

export const BUILT_INS: readonly (SiteAggregator | ApiAggregator)[] = [
  {
    kind: 'site',
    id: 'mysql',
    title: 'MySQL / MariaDB',
    dialect: 'mysql',
    defaultPort: 3306,
    summary: 'A database on a site, through a mini connector installed there.',
  },
  {
    kind: 'site',
    id: 'postgres',
    title: 'PostgreSQL',
    dialect: 'postgres',
    defaultPort: 5432,
    summary: 'A database on a site, through a mini connector installed there.',
  },
  {
    kind: 'site',
    id: 'mssql',
    title: 'SQL Server',
    dialect: 'mssql',
    defaultPort: 1433,
    summary: 'A database on a site, through a mini connector installed there.',
  },
  {
    kind: 'api',
    id: 'openapi',
    title: 'HTTP / OpenAPI API',
    summary: 'Any API with an OpenAPI 3.x or Swagger 2.0 document, on a site network, the internet or both.',
  },
];
