import fp from 'fastify-plugin';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatewayErrorCode } from '../errors';

const kDeadline = Symbol('request-deadline');

declare module 'fastify' {
  interface FastifyRequest {
    [kDeadline]?: { total: NodeJS.Timeout; idle?: NodeJS.Timeout };
  }
}

/** Cuts a request whose body did not arrive: 408 in the error shape, then the socket goes. */
function cut(req: FastifyRequest, reply: FastifyReply, message: string, limitMs: number): void {
  if (reply.sent) return;
  req.log.warn({ limitMs }, message);
  reply.header('connection', 'close');
  // The rest of the body is not wanted: the socket goes once the answer is out.
  reply.raw.once('finish', () => req.raw.socket?.destroy());
  void reply.code(408).send({ error: { code: GatewayErrorCode.requestTimeout, message } });
}

/**
 * A request must arrive whole, body included, within `requestTimeoutMs`. Node's own
 * `requestTimeout` stops counting once the headers are in, so a body that trickles in (or stalls)
 * would hold a chunk slot and its memory until the idle limit: this deadline covers the body.
 * Besides, a body that moves no byte for `bodyIdleTimeoutMs` is cut at once: a stalled upload
 * gives its chunk slot back in seconds, not at the end of the whole-request allowance that a
 * 32 MiB chunk on a slow uplink needs. Both end when the body is parsed (preValidation), so a
 * slow answer is not cut by them.
 */
export const requestDeadlinePlugin = fp<{ requestTimeoutMs: number; bodyIdleTimeoutMs?: number }>(
  async (app, { requestTimeoutMs, bodyIdleTimeoutMs }) => {
    app.addHook('onRequest', async (req, reply) => {
      const total = setTimeout(
        () => cut(req, reply, `the request did not arrive whole within ${requestTimeoutMs} ms`, requestTimeoutMs),
        requestTimeoutMs,
      );
      req[kDeadline] = { total };
      const socket = req.raw.socket;
      const hasBody = req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined;
      if (!bodyIdleTimeoutMs || !socket || !hasBody) return;
      // Progress is read off the socket's byte count, polled: listening to the request's own data
      // events would take the body away from fastify's parser.
      let seen = socket.bytesRead;
      let quietSince = Date.now();
      const every = Math.max(50, Math.floor(bodyIdleTimeoutMs / 5));
      const idle = setInterval(() => {
        if (socket.bytesRead !== seen) {
          seen = socket.bytesRead;
          quietSince = Date.now();
        } else if (Date.now() - quietSince >= bodyIdleTimeoutMs) {
          clearInterval(idle);
          cut(req, reply, `the request body sent nothing for ${bodyIdleTimeoutMs} ms`, bodyIdleTimeoutMs);
        }
      }, every);
      idle.unref();
      req[kDeadline].idle = idle;
    });
    const settle = async (req: FastifyRequest) => {
      clearTimeout(req[kDeadline]?.total);
      clearInterval(req[kDeadline]?.idle);
    };
    app.addHook('preValidation', settle);
    app.addHook('onResponse', settle);
    app.addHook('onRequestAbort', settle);
  },
  { name: 'request-deadline', fastify: '5.x' },
);
