import { API_BUILD_WORKER_ENTRY, processBuild } from '../tsup.process';

// The gateway starts, queries and signals workflows through their definitions, so it compiles them in.
export default processBuild({ main: 'src/main.ts', ...API_BUILD_WORKER_ENTRY }, { compileWorkflows: true });
