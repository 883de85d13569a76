export { testServices, throwawayPostgresDatabase, type TestServices, type MariadbAccess } from './test-env';
