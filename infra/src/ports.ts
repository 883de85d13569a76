import { createServer, connect } from 'node:net';
import { InfraError, InfraErrorCode } from './errors';

/** Resolves when nothing listens on host:port, else fails naming the port and who wanted it. */
export async function assertPortFree(port: number, owner: string, host = '127.0.0.1'): Promise<void> {
  await new Promise<void>((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      const reason = err.code === 'EADDRINUSE' ? 'is already in use' : `cannot be opened (${err.code ?? err.message})`;
      reject(
        new InfraError(
          InfraErrorCode.portInUse,
          `port ${port} on ${host} (wanted by ${owner}) ${reason}. Stop whatever holds it (\`ss -ltnp 'sport = :${port}'\` shows it) or choose another port with the matching VSC_PORT_* variable.`,
        ),
      );
    });
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolvePromise()));
  });
}

/** True when something accepts TCP connections on host:port. */
export function isPortOpen(port: number, host = '127.0.0.1', timeoutMs = 500): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = connect({ port, host });
    const done = (open: boolean) => {
      socket.destroy();
      resolvePromise(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  intervalMs = 200,
  giveUp: () => boolean = () => false,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline && !giveUp()) {
    try {
      if (await check()) return;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  const detail = lastError instanceof Error ? `: ${lastError.message}` : '';
  throw new InfraError(
    InfraErrorCode.serviceFailed,
    `${what} did not become ready within ${Math.round(timeoutMs / 1000)} s${detail}`,
  );
}
