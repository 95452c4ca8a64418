/** Event triggers: file-system watches and usage/threshold conditions. */
export { TriggerHub, MIN_DEFAULT_COOLDOWN_MS, refuseUnavailable, type TriggerHubOptions } from './hub';
export {
  parseCondition, holds, signalsOf, IDLE_CPU_PERCENT, METRIC_LIST,
  type Condition, type Check, type Metric, type Comparison, type Unit,
} from './condition';
export type { Reading, Sample, SignalSource } from './signals';
export { SystemSignals, type SystemSignalsOptions } from './usage';
export { SharedSampler, periodFor, DEFAULT_SAMPLE_PERIOD, SAMPLES_PER_WINDOW, type SamplePeriod } from './sampler';
export { resolveWatchTarget, DEFAULT_DEBOUNCE_MS, type WatchTarget } from './watch';
