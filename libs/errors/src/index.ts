/**
 * @pipeline/errors: the error base every lib and app extends (code, retryable, cause), how to read any error
 * for those, and the one retry backoff. No dependencies, so every project can import it.
 */
export { PipelineError, isRetryable, errorCode, errorMessage, type PipelineErrorOptions } from './errors';
export { backoffDelay, backoffCap, sleep, type BackoffPolicy } from './backoff';
