/** Event triggers: file-system watches and usage/threshold conditions. */
export { TriggerHub, MIN_DEFAULT_COOLDOWN_MS, type TriggerHubOptions } from './hub';
export { parseCondition, IDLE_CPU_PERCENT, type Condition, type Metric, type Comparison } from './condition';
export { OsUsageSource, type UsageSample, type UsageSource } from './usage';
export { resolveWatchTarget, DEFAULT_DEBOUNCE_MS, type WatchTarget } from './watch';
