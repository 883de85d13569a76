// Child process for client-connection.int.test.ts: closes a Temporal connection while a call's retry
// timer is pending. argv: <temporal address> <plain|guarded>. Prints "rejected: <message>" when the
// call ends as a rejected promise; a crash from the timer exits non-zero instead.
import { createConnection, createServer, type Socket } from 'node:net';
import { Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import { connectTemporalClient } from '../../src/client-connection';

async function main(): Promise<void> {
  const [address, mode] = process.argv.slice(2) as [string, 'plain' | 'guarded'];
  const [host, port] = [
    address.slice(0, address.lastIndexOf(':')),
    Number(address.slice(address.lastIndexOf(':') + 1)),
  ];
  // A proxy we can cut: calls through it fail with UNAVAILABLE, which the SDK retries.
  let cut = false;
  const sockets = new Set<Socket>();
  const proxy = createServer((client) => {
    if (cut) return client.destroy();
    const upstream = createConnection({ host, port });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const proxyAddress = `127.0.0.1:${(proxy.address() as { port: number }).port}`;

  let onRetryScheduled = () => undefined as void;
  const retryScheduled = new Promise<void>((resolve) => (onRetryScheduled = resolve));
  const defaults = defaultGrpcRetryOptions();
  const interceptors = [
    makeGrpcRetryInterceptor({
      ...defaults,
      // Long enough that close() surely comes first.
      delayFunction: () => 500,
      retryableDecider: (attempt, status) => {
        const retry = defaults.retryableDecider(attempt, status);
        if (retry) onRetryScheduled();
        return retry;
      },
    }),
  ];
  const options = { address: proxyAddress, interceptors };
  const connection = mode === 'plain' ? await Connection.connect(options) : await connectTemporalClient(options);

  cut = true;
  for (const s of sockets) s.destroy();
  const call = connection.workflowService.getSystemInfo({}).then(
    () => 'answered',
    (err: Error) => `rejected: ${err.message}`,
  );
  await retryScheduled;
  await connection.close();
  process.stdout.write(`${await call}\n`);
  proxy.close();
}

void main();
