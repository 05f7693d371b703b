/**
 * Scheduled sync jobs: node-cron per tenant and resource, no overlapping runs, one instance per tick.
 * @module scheduler
 */
export { SchedulerService, createSchedulerService } from './scheduler-service.js';
export type { SchedulerOptions, SchedulerStatus, SchedulerJobStatus } from './scheduler-service.js';
export { SchedulerError } from './errors.js';
export { createImporterJobRunner } from './job-runner.js';
export type { JobRunner, ScheduledRun, SchedulerClientSource } from './job-runner.js';
export { createLeaseCoordinator } from './lease-coordinator.js';
export type { LeaseCoordinator, LeaseCoordinatorOptions } from './lease-coordinator.js';
export { DEFAULT_SYNC_CONFIG, SYNC_JOB_TYPES, mergeSyncConfig, syncJobId, runOptionsFor } from './sync-config.js';
export type { SyncConfig, SyncConfigOverrides, SyncJobConfig, SyncJobOptions, SyncJobType, SyncResource } from './sync-config.js';
