import { describe, expect, it } from '@jest/globals';
import { DruidApiError } from '@pipeline/druid';
import { isRetryable, PipelineError } from '@pipeline/errors';
import { isFinalApplyError } from './supervisor.apply';
import { InvalidSpecError, validateSupervisorSpec } from './spec.validation';

function invalidSpec(): InvalidSpecError {
  try {
    validateSupervisorSpec({ type: 'kafka' });
  } catch (err) {
    if (err instanceof InvalidSpecError) return err;
    throw err;
  }
  throw new Error('the spec was accepted');
}

describe('whether a failed supervisor apply stops the start', () => {
  it('an invalid spec is a PipelineError with code INVALID_SPEC that no retry can fix, and stops the start', () => {
    const err = invalidSpec();
    expect(err).toBeInstanceOf(PipelineError);
    expect(err).toMatchObject({ name: 'InvalidSpecError', code: 'INVALID_SPEC', retryable: false });
    expect(isRetryable(err)).toBe(false);
    expect(isFinalApplyError(err)).toBe(true);
  });

  it('a spec Druid refuses stops the start; Druid down or answering 5xx is retried', () => {
    expect(isFinalApplyError(new DruidApiError('POST supervisor: 400 bad spec', 400, false))).toBe(true);
    expect(isFinalApplyError(new DruidApiError('POST supervisor: 503', 503, true))).toBe(false);
    expect(isFinalApplyError(new DruidApiError('POST supervisor: no answer', undefined, true))).toBe(false);
  });

  it('an error that says nothing about itself (a refused connection) is retried', () => {
    expect(isFinalApplyError(new TypeError('fetch failed'))).toBe(false);
  });
});
