/**
 * The variables several apps read, declared once so they mean the same everywhere: same name, same parse,
 * same description. An app puts them in its own schema (`LOG_LEVEL: logLevel`) next to its own variables.
 */
import { z } from 'zod';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** LOG_LEVEL: pino's levels; default info. */
export const logLevel = z.enum(LOG_LEVELS).default('info').describe('Log level: fatal, error, warn, info, debug, trace or silent');

/** KAFKA_BROKERS, required: comma-separated bootstrap servers, as a list (blanks around commas dropped). */
export const kafkaBrokers = z
  .string()
  .min(1)
  .transform((s) => s.split(',').map((b) => b.trim()).filter(Boolean))
  .describe('Comma-separated bootstrap servers');

/** An interface to listen on (HTTP_HOST and the like): loopback unless told otherwise; 0.0.0.0 in a container. */
export const listenHost = (def = '127.0.0.1') => z.string().min(1).default(def);

/** A TCP port to listen on (HTTP_PORT and the like); 0 picks a free one. */
export const port = (def: number) => z.coerce.number().int().min(0).max(65_535).default(def);
