import { describe, expect, it } from '@jest/globals';
import { errorCode, isRetryable, PipelineError } from '@pipeline/errors';
import { ApiError, badRequest } from './errors';

describe('ApiError', () => {
  it('is a PipelineError whose code is the API code, and only a 503 says "send it again later"', () => {
    const overloaded = new ApiError(503, 'OVERLOADED', 'at the limit');
    expect(overloaded).toBeInstanceOf(PipelineError);
    expect(overloaded).toMatchObject({ name: 'ApiError', status: 503, code: 'OVERLOADED', retryable: true });
    expect(isRetryable(overloaded)).toBe(true);
    expect(isRetryable(new ApiError(503, 'WAL_UNAVAILABLE', 'Kafka is down'))).toBe(true);
    for (const err of [badRequest('edge.version', 'required'), new ApiError(404, 'NOT_FOUND', 'x'), new ApiError(409, 'CONFLICT', 'x'), new ApiError(500, 'INTERNAL', 'x')]) {
      expect(isRetryable(err)).toBe(false);
    }
    expect(errorCode(badRequest('edge.version', 'required'), 'F')).toBe('INVALID_REQUEST');
  });

  it('answers with the same body as before: Actionbase\'s fields plus code and field, nothing about retrying', () => {
    const cause = new Error('inner');
    const body = new ApiError(400, 'INVALID_REQUEST', 'edge.version: required', 'edge.version', { cause }).toJSON();
    expect(Object.keys(body)).toEqual(['timestamp', 'status', 'error', 'message', 'code', 'field']);
    expect(body).toMatchObject({ status: 400, error: 'Bad Request', message: 'edge.version: required', code: 'INVALID_REQUEST', field: 'edge.version' });
    expect(Object.keys(new ApiError(503, 'OVERLOADED', 'x').toJSON())).toEqual(['timestamp', 'status', 'error', 'message', 'code']);
    expect(new ApiError(400, 'INVALID_REQUEST', 'x', 'f', { cause }).cause).toBe(cause);
  });
});
