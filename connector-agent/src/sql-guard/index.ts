export { checkReadOnlySql, SQL_DIALECTS, type SqlDialect, type SqlCheckResult } from './check-read-only-sql';
