import { ShopifyIngestError } from '../errors.js';

/**
 * A scheduler operation failed: an unknown job, an invalid cron expression or time zone,
 * or a manual run refused because the job is already running (here or on another instance).
 *
 * @example
 * ```ts
 * try { await scheduler.runJobNow('orders-sync-t1') }
 * catch (e) { if (e instanceof SchedulerError && e.code === 'SCHEDULER_JOB_BUSY') retryLater() }
 * ```
 */
export class SchedulerError extends ShopifyIngestError {
  /** The job concerned, when there is one. */
  readonly jobId: string | undefined;
  /**
   * Raised by the SDK; applications catch it.
   * @internal
   */
  constructor(
    code: 'SCHEDULER_JOB_NOT_FOUND' | 'SCHEDULER_INVALID_SCHEDULE' | 'SCHEDULER_INVALID_TIMEZONE' | 'SCHEDULER_JOB_BUSY' | 'SCHEDULER_STOPPED',
    message: string,
    options: { jobId?: string; cause?: unknown } = {},
  ) {
    // A busy job can be run once its run ends; the other codes need a change first (docs/errors.md).
    super(code, message, { cause: options.cause, details: { jobId: options.jobId }, retryable: code === 'SCHEDULER_JOB_BUSY' });
    this.jobId = options.jobId;
  }
}
