import fp from 'fastify-plugin';
import { GatewayErrorCode } from '../errors';

const kDeadline = Symbol('request-deadline');

declare module 'fastify' {
  interface FastifyRequest {
    [kDeadline]?: NodeJS.Timeout;
  }
}

/**
 * A request must arrive whole, body included, within `requestTimeoutMs`. Node's own
 * `requestTimeout` stops counting once the headers are in, so a body that trickles in (or stalls)
 * would hold a chunk slot and its memory until the idle limit: this deadline covers the body.
 * It ends when the body is parsed (preValidation), so a slow answer is not cut by it.
 */
export const requestDeadlinePlugin = fp<{ requestTimeoutMs: number }>(
  async (app, { requestTimeoutMs }) => {
    app.addHook('onRequest', async (req, reply) => {
      req[kDeadline] = setTimeout(() => {
        if (reply.sent) return;
        req.log.warn({ limitMs: requestTimeoutMs }, 'request not received in time');
        reply.header('connection', 'close');
        // The rest of the body is not wanted: the socket goes once the answer is out.
        reply.raw.once('finish', () => req.raw.socket?.destroy());
        void reply.code(408).send({
          error: {
            code: GatewayErrorCode.requestTimeout,
            message: `the request did not arrive whole within ${requestTimeoutMs} ms`,
          },
        });
      }, requestTimeoutMs);
    });
    const settle = async (req: { [kDeadline]?: NodeJS.Timeout }) => clearTimeout(req[kDeadline]);
    app.addHook('preValidation', settle);
    app.addHook('onResponse', settle);
    app.addHook('onRequestAbort', settle);
  },
  { name: 'request-deadline', fastify: '5.x' },
);
