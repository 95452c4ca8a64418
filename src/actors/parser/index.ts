/** The parser area's public surface: the schedule language and the parser actor's handlers. */
export {
  type Schedule, type ParseOptions, type NextRunsOptions, ScheduleMath,
  parseSchedule, nextFire, slotsBetween, nextRuns, validateTimeZone, machineTimeZone,
} from './schedule';
export { createParserHandlers, type ParserHandlers } from './actor';
