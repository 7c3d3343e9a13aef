import pino, { type Logger } from 'pino';

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { app: 'actionbase' },
    redact: { paths: ['req.headers.authorization', '*.apiToken', 'API_TOKEN'], censor: '[redacted]' },
  });
}
