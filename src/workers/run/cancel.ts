/** What a cancel from outside means for a run, whichever way it is hosted. */
import type { CancelReason, RunOutcome } from '../../actors/executor/types';
import { formatDuration } from '../../model/duration';

/** Why a run is being stopped; the first cause wins and decides the status. */
export interface KillCause {
  status: Exclude<RunOutcome, 'succeeded' | 'failed'>;
  error: string;
}

/** The status and error a cancel reason leads to. */
export function cancelCause(reason: CancelReason): KillCause {
  switch (reason) {
    case 'shutdown':
      return { status: 'interrupted', error: 'interrupted: the scheduler shut down while the run was in progress' };
    case 'replace':
      return { status: 'killed', error: "killed: replaced by a newer run of the same job (overlap policy 'replace')" };
    case 'manual':
      return { status: 'killed', error: 'killed: cancelled on request' };
  }
}

/** The cause of a run stopped for its `timeoutMs`. */
export function timeoutCause(timeoutMs: number): KillCause {
  return { status: 'timeout', error: `timed out after ${formatDuration(timeoutMs)} (timeoutMs ${timeoutMs})` };
}
