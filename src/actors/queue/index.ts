/** The queue's parts: timeline + its timer, the ready queue, and the overlap/catch-up/jitter policies. */
export { Timeline, type TimelineEntry } from './timeline';
export { TimelineTimer, type TimelineTimerOptions } from './timer';
export { ReadyQueue, readyBefore, type ReadyItem } from './ready-queue';
export {
  decideOverlap, explainOverlap, OVERLAP_POLICIES,
  type OverlapDecision, type OverlapState, type OverlapVerdict,
} from './overlap-policy';
export { planCatchUp, CATCH_UP_POLICIES, DEFAULT_MAX_CATCH_UP, type CatchUpPlan } from './catch-up-policy';
export { jitterFor } from './jitter';
