export * from './model';
export * from './contracts';
export { routeStep, type RoutingContext } from './routing';
export { connectorIdsOf } from './connectors';
