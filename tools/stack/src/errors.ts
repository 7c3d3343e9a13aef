/** A failure of the local stack, phrased for a person: what failed and what to do about it. */
export class StackError extends Error {
  readonly service: string;
  readonly hint: string | undefined;

  constructor(service: string, message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(opts.hint ? `${service}: ${message}\n  What to do: ${opts.hint}` : `${service}: ${message}`, {
      cause: opts.cause,
    });
    this.name = 'StackError';
    this.service = service;
    this.hint = opts.hint;
  }
}
