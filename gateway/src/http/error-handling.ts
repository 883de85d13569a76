import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import fp from 'fastify-plugin';
import type { FastifyError } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ServiceError } from '@temporalio/client';
import { BufferError } from '@vansales/buffer';
import { BUFFER_HTTP_STATUS, GatewayError, GatewayErrorCode, HTTP_STATUS } from '../errors';

/**
 * One error shape for every answer that is not a success, unknown routes included:
 * `{ error: { code, message, …details } }`, statuses from the tables in `errors.ts`. 5xx never
 * carry internals (they are logged instead).
 */
export const errorHandlingPlugin = fp(
  async (app) => {
    app.setErrorHandler((err: FastifyError | GatewayError, req, reply) => {
      if (err instanceof GatewayError) {
        // A throttle or quota answer says when to come back (429 with Retry-After, RFC 9110).
        const retryAfter = err.details?.retryAfterSeconds;
        if (typeof retryAfter === 'number') void reply.header('retry-after', String(retryAfter));
        return reply
          .code(HTTP_STATUS[err.code])
          .send({ error: { code: err.code, message: err.message, ...err.details } });
      }
      if (err instanceof BufferError) {
        const status = BUFFER_HTTP_STATUS[err.code];
        if (status >= 500) {
          req.log.error({ code: err.code, err: err.message }, 'buffer failure');
          return reply
            .code(status)
            .send({ error: { code: GatewayErrorCode.internal, message: 'internal error; see the gateway log' } });
        }
        return reply.code(status).send({ error: { code: err.code, message: err.message, ...err.details } });
      }
      if (hasZodFastifySchemaValidationErrors(err)) {
        const message = err.validation
          .map((v) => `${v.instancePath || err.validationContext || 'body'}: ${v.message}`)
          .join('; ');
        return reply.code(400).send({ error: { code: GatewayErrorCode.badRequest, message } });
      }
      if (err instanceof ServiceError) {
        // Temporal did not answer as expected: say so (retryable for the caller), log the detail.
        req.log.warn({ err: err.message }, 'Temporal call failed');
        return reply.code(503).send({
          error: {
            code: GatewayErrorCode.unavailable,
            message: `the workflow service did not answer: ${err.message}`,
          },
        });
      }
      const status = (err as FastifyError).statusCode;
      if (status && status >= 400 && status < 500) {
        return reply.code(status).send({ error: { code: GatewayErrorCode.badRequest, message: err.message } });
      }
      req.log.error({ err }, 'unhandled error');
      return reply
        .code(500)
        .send({ error: { code: GatewayErrorCode.internal, message: 'internal error; see the gateway log' } });
    });

    app.setNotFoundHandler((req, reply) => {
      // The path only: a query string may hold what a caller should not have put there.
      const path = req.url.replace(/\?.*$/s, '');
      return reply
        .code(404)
        .send({ error: { code: GatewayErrorCode.notFound, message: `no route ${req.method} ${path}` } });
    });
  },
  { name: 'error-handling', fastify: '5.x' },
);

/**
 * Errors Node raises before fastify sees a request (a request that did not arrive in time, bytes
 * that are not HTTP), answered in the same error shape. Fastify's `clientErrorHandler` option.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const timeout = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
  const status = timeout ? 408 : 400;
  const body = JSON.stringify({
    error: timeout
      ? { code: GatewayErrorCode.requestTimeout, message: 'the request did not arrive in time' }
      : { code: GatewayErrorCode.badRequest, message: 'malformed HTTP request' },
  });
  if (socket.writable && (socket as Duplex & { bytesWritten?: number }).bytesWritten === 0) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
