export { runPluginOperation, type PluginOperationRequest } from './plugin-operation';
