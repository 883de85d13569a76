import pino from 'pino';
import type { FastifyBaseLogger } from 'fastify';

/** The logger type every gateway module takes (fastify's view of a pino logger). */
export type Logger = FastifyBaseLogger;

/** Paths that may hold a secret are censored wherever they appear in a log object. */
export const REDACT_PATHS = [
  'password',
  '*.password',
  'apiKey',
  '*.apiKey',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'headers.authorization',
  'token',
  '*.token',
];

/**
 * Request lines keep the path but never the query string: a caller who puts a token or key in the
 * URL (refused anyway) must not leave it in the log.
 */
export const GATEWAY_SERIALIZERS = {
  req: (req: { method?: string; url?: string; hostname?: string; ip?: string; id?: unknown }) => ({
    id: req.id,
    method: req.method,
    url: typeof req.url === 'string' ? req.url.replace(/\?.*$/s, '?[redacted]') : req.url,
    hostname: req.hostname,
    remoteAddress: req.ip,
  }),
};

export function createLogger(level: string, name: string, destination?: pino.DestinationStream): Logger {
  return pino(
    { name, level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, serializers: GATEWAY_SERIALIZERS },
    destination,
  ) as unknown as Logger;
}
