import { InfraError } from './errors';
import { up } from './commands/up';
import { test, services, bench } from './commands/test';
import { admin, defaultAdminTarget } from './commands/admin';

const USAGE = `usage: ./vsc <command>

  up                 start the whole platform on this machine (Ctrl-C stops it)
  test [jest args]   start the test services, run every test, stop them
  services [test|dev] start only the backing services (Temporal, PostgreSQL, MariaDB, Redis, MinIO)
  tenant|connector|key|audit ...   control-plane commands against the running gateway (./vsc key for usage)
  bench <name>       run one benchmark (bench/<name>.ts) against freshly started services; JSON lines out
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'up':
      return up();
    case 'test':
      return test(rest);
    case 'tenant':
    case 'connector':
    case 'key':
    case 'audit':
      return admin(argv, defaultAdminTarget(), (s) => process.stdout.write(s), (s) => process.stderr.write(s));
    case 'bench':
      return bench(rest[0], rest.slice(1));
    case 'services':
      return services(rest[0] === 'dev' ? 'dev' : 'test');
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(USAGE);
      return command ? 0 : 2;
    default:
      process.stderr.write(`unknown command ${command}\n${USAGE}`);
      return 2;
  }
}

void main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    // Known failures get their message only; anything else its stack, since it is a bug of ours.
    process.stderr.write(err instanceof InfraError ? `vsc: ${err.message}\n` : `vsc: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
