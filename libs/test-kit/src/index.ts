export { testServices, throwawayPostgresDatabase, type TestServices } from './test-env';
