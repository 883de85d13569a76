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

export function createLogger(level: string, name: string): Logger {
  return pino({ name, level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }) as unknown as Logger;
}
