import { processBuild } from '../tsup.process';

export default processBuild({ main: 'src/main.ts' });
