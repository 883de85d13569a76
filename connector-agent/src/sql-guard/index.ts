export { checkReadOnlySql, type SqlCheckResult } from './check-read-only-sql';
export { bindMysqlParameters, type SqlParameter } from './mysql-parameters';
