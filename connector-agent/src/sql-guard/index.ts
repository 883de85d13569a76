export { checkReadOnlySql, SQL_DIALECTS, type SqlDialect, type SqlCheckResult } from './check-read-only-sql';
export { bindMysqlParameters, type SqlParameter } from './mysql-parameters';
