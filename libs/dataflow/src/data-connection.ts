import { DataflowError, DataflowErrorCode } from './errors';
import { openMysqlConnection } from './mysql/connection';
import { openPostgresConnection } from './postgres/connection';
import { DataConnectionConfig, type DataConnection } from './types/data-connection';

const DEFAULT_POOL_SIZE = 4;

/**
 * A connection pool to one database with the operations the agent and the cloud workers move
 * data with. Connects once before returning, so a wrong host or password fails here.
 */
export async function openDataConnection(config: DataConnectionConfig): Promise<DataConnection> {
  const parsed = DataConnectionConfig.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DataflowError(
      DataflowErrorCode.BAD_REQUEST,
      `invalid connection config: ${issue ? `${issue.path.join('.') || 'config'}: ${issue.message}` : parsed.error.message}`,
    );
  }
  const c = parsed.data;
  const common = {
    host: c.host,
    port: c.port,
    user: c.user,
    password: c.password,
    database: c.database,
    poolSize: c.poolSize ?? DEFAULT_POOL_SIZE,
    ...(c.statementTimeoutMs !== undefined ? { statementTimeoutMs: c.statementTimeoutMs } : {}),
  };
  switch (c.dialect) {
    case 'postgres':
      return openPostgresConnection(common);
    case 'mysql':
      return openMysqlConnection({ ...common, tinyint1: c.mysqlTinyint1 ?? 'boolean' });
    case 'mssql':
      throw new DataflowError(
        DataflowErrorCode.UNSUPPORTED_DIALECT,
        'SQL Server is not supported yet for reading or writing rows (its type mapping and DDL are: mapColumns, createTableSql)',
      );
  }
}
