export { createTelemetry, NO_SPAN, NO_TELEMETRY, Telemetry, TelemetrySpan, type Attributes, type InboxSample, type TelemetryOptions } from './telemetry.js';
export { ATTR, INSTRUMENTS, SPANS, type InstrumentSpec } from './instruments.js';
export { instrumentWebhookCore, rejectionReason } from './webhooks.js';
export { startSyncRun, type SyncRunTrace } from './sync.js';
