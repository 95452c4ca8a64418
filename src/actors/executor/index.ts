/** The executor: worker pool for runs, and the retry/backoff policy. */
export * from './types';
export * from './pool';
export * from './retry-policy';
