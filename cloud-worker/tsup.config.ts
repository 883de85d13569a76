import { processBuild, SANDBOX_WORKER_ENTRY, TRANSFORM_WORKER_ENTRY } from '../tsup.process';

export default processBuild({ main: 'src/main.ts', ...TRANSFORM_WORKER_ENTRY, ...SANDBOX_WORKER_ENTRY });
