import type { z } from 'zod';
import { PipelineError } from '@pipeline/errors';

export interface ConfigIssue {
  /** The environment variable (or dotted path for nested schemas). */
  variable: string;
  message: string;
}

/** The environment does not fit the app's schema; the message names every bad variable, one per line. */
export class ConfigError extends PipelineError {
  override readonly name = 'ConfigError';
  override readonly code = 'INVALID_CONFIG' as const;
  override readonly retryable = false as const;
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue[]) {
    super(
      'INVALID_CONFIG',
      `invalid configuration:\n${issues.map((i) => `  ${i.variable}: ${i.message}`).join('\n')}\nFix the environment variable(s) above and start again.`,
      { retryable: false },
    );
    this.issues = issues;
  }
}

/**
 * Parses a process.env-like object with the app's zod schema, once, at start. Empty strings count as unset,
 * so `FOO=` in a compose file falls back to the schema's default instead of failing a number parse.
 * Throws ConfigError naming each bad variable; the app lets it end the process.
 */
export function parseConfig<S extends z.ZodType>(schema: S, env: Record<string, string | undefined>): z.output<S> {
  const input = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => {
    const variable = i.path.length ? i.path.map(String).join('.') : '(environment)';
    const present = i.path.length === 1 && Object.prototype.hasOwnProperty.call(input, i.path[0] as PropertyKey);
    // zod says "expected string, received undefined" for a missing variable; say it the way an operator reads it.
    const message = !present && i.path.length === 1 && i.code === 'invalid_type' ? 'required, not set' : i.message;
    return { variable, message };
  });
  throw new ConfigError(issues);
}
