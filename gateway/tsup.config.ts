import { processBuild } from '../tsup.process';

// The gateway starts, queries and signals workflows through their definitions, so it compiles them in.
export default processBuild({ main: 'src/main.ts' }, { compileWorkflows: true });
