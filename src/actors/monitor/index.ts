/** The monitor actor's parts. */
export { Monitor, type MonitorOptions, type MonitorProbes } from './monitor';
export { DurationWindow } from './duration-window';
export { LabelCap } from './label-cap';
export { DURATION_BUCKETS, LATENESS_BUCKETS } from './metrics';
