import { processBuild } from '../tsup.process';

export default processBuild({ cli: 'src/cli.ts', 'temporal-download': 'src/temporal-download.ts' });
