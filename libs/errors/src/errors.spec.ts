import { describe, it, expect } from '@jest/globals';
import { errorCode, errorMessage, isRetryable, PipelineError } from './errors';

class ExampleError extends PipelineError {
  override readonly code = 'EXAMPLE_DOWN' as const;
  constructor(cause?: unknown) {
    super('EXAMPLE_DOWN', 'example is down', { retryable: true, cause });
  }
}

describe('PipelineError', () => {
  it('carries code, retryable and cause, and is named after its class', () => {
    const cause = new Error('ECONNREFUSED');
    const err = new ExampleError(cause);
    expect(err).toBeInstanceOf(PipelineError);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ name: 'ExampleError', code: 'EXAMPLE_DOWN', retryable: true, message: 'example is down' });
    expect(err.cause).toBe(cause);
    expect(new PipelineError('X', 'x', { retryable: false })).not.toHaveProperty('cause');
  });
});

describe('reading any error', () => {
  it('takes retryable from the flag, and an error that does not say as retryable', () => {
    expect(isRetryable(new PipelineError('X', 'x', { retryable: false }))).toBe(false);
    expect(isRetryable(Object.assign(new Error('x'), { retryable: false }))).toBe(false);
    expect(isRetryable(new ExampleError())).toBe(true);
    expect(isRetryable(new Error('bug'))).toBe(true);
    expect(isRetryable('string')).toBe(true);
  });

  it('gives the code or the fallback, and a message for anything thrown', () => {
    expect(errorCode(new ExampleError(), 'F')).toBe('EXAMPLE_DOWN');
    expect(errorCode(new Error('x'), 'F')).toBe('F');
    expect(errorMessage(new Error('boom'))).toBe('boom');
    expect(errorMessage('text')).toBe('text');
    expect(errorMessage({ a: 1 })).toBe('{"a":1}');
  });
});
