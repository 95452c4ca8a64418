import type { Job } from './job';
import type { Run, Slot } from './run';

/** The whole store as one JSON document (`rae-sched backup`): written by persistence, returned by the facade. */
export interface BackupDocument {
  format: 'rae-sched-backup';
  version: 1;
  createdAt: string;
  jobs: Job[];
  runs: Run[];
  slots: Slot[];
}
