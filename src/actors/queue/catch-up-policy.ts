/**
 * Catch-up policy (CONTRACT `--catch-up none|once|all`, default `once`): what to do with the slots a
 * job missed while the scheduler was down (or the machine asleep, or the clock stepped forward).
 */
import { ValidationError } from '../../errors';
import { CATCH_UP_POLICIES, type CatchUpPolicy } from '../../model/job';

/** Every missed slot lands in exactly one of the two lists (both ascending). */
export interface CatchUpPlan {
  /** Slots to run now (trigger `catch-up`). */
  run: number[];
  /** Slots recorded as `missed`, not run. */
  missed: number[];
}

/** Default cap of `all`: a daemon down for a week with a per-minute job must not fire 10,080 runs. */
export const DEFAULT_MAX_CATCH_UP = 100;

/**
 * Splits missed slots into those to run and those to record as missed.
 * - `none`: run nothing;
 * - `once`: run only the LATEST missed slot (as systemd's `Persistent=true` does);
 * - `all`: run the newest `maxAll` slots, oldest of those first; older ones are recorded missed.
 *
 * @param missed slot times (epoch ms), strictly ascending
 * @param opts.maxAll cap for `all`. @default 100
 * @throws ValidationError for an unknown policy, unsorted/non-finite slots or a bad cap
 * @example
 * planCatchUp('once', [t1, t2, t3]) // { run: [t3], missed: [t1, t2] }
 */
export function planCatchUp(policy: CatchUpPolicy, missed: number[], opts?: { maxAll?: number }): CatchUpPlan {
  const maxAll = opts?.maxAll ?? DEFAULT_MAX_CATCH_UP;
  if (!Number.isInteger(maxAll) || maxAll < 1) {
    throw new ValidationError(`catch-up maxAll must be an integer >= 1, got ${String(maxAll)}`, 'maxAll');
  }
  if (!Array.isArray(missed)) throw new ValidationError('missed slots must be an array of epoch ms', 'missed');
  for (let i = 0; i < missed.length; i++) {
    const t = missed[i];
    if (typeof t !== 'number' || !Number.isFinite(t)) {
      throw new ValidationError(`missed slot #${i} must be finite epoch ms, got ${String(t)}`, 'missed');
    }
    if (i > 0 && t <= missed[i - 1]!) {
      throw new ValidationError(`missed slots must be strictly ascending (slot #${i} is not after #${i - 1})`, 'missed');
    }
  }
  switch (policy) {
    case 'none':
      return { run: [], missed: [...missed] };
    case 'once':
      return missed.length === 0 ? { run: [], missed: [] } : { run: missed.slice(-1), missed: missed.slice(0, -1) };
    case 'all': {
      const cut = Math.max(0, missed.length - maxAll);
      return { run: missed.slice(cut), missed: missed.slice(0, cut) };
    }
    default:
      throw new ValidationError(`catchUp must be one of ${CATCH_UP_POLICIES.join('|')}, got ${String(policy)}`, 'catchUp');
  }
}
