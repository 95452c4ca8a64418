/**
 * Heartbeats: every actor is asked `heartbeat` every `everyMs`; one that has not answered within
 * `deadlineMs` (or whose last answer was an error, e.g. mid-restart) is unhealthy. Timed in real
 * time on purpose: a virtual clock stands still while an actor hangs, so a deadline on it would
 * never pass. Reading the status is O(1) per actor: health never waits for a ping.
 */

/** One actor to ping. */
export interface HeartbeatTarget {
  name: string;
  /** Resolves when the actor's mailbox has handled the heartbeat. */
  ping(): Promise<unknown>;
}

/** Options of {@link Heartbeats}. */
export interface HeartbeatOptions {
  targets: HeartbeatTarget[];
  /** @default 5000 */
  everyMs?: number;
  /** @default 10000 */
  deadlineMs?: number;
  /** Monotonic real time. @default performance.now */
  now?: () => number;
}

interface Beat {
  /** When the ping in flight was sent, or null. */
  since: number | null;
  error: string | null;
  answered: number;
}

/** One actor's heartbeat state. */
export interface HeartbeatStatus {
  ok: boolean;
  detail?: string;
}

/** Pings every target on a real-time interval and keeps each one's last outcome. */
export class Heartbeats {
  readonly #targets: HeartbeatTarget[];
  readonly #beats = new Map<string, Beat>();
  readonly #everyMs: number;
  readonly #deadlineMs: number;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | null = null;

  constructor(opts: HeartbeatOptions) {
    this.#targets = opts.targets;
    this.#everyMs = opts.everyMs ?? 5000;
    this.#deadlineMs = opts.deadlineMs ?? 10_000;
    this.#now = opts.now ?? (() => performance.now());
    for (const t of this.#targets) this.#beats.set(t.name, { since: null, error: null, answered: 0 });
  }

  /** The deadline an actor has to answer. */
  get deadlineMs(): number {
    return this.#deadlineMs;
  }

  /** Pings now and then every `everyMs` (the timer does not keep the process alive). */
  start(): void {
    if (this.#timer !== null) return;
    this.beat();
    this.#timer = setInterval(() => this.beat(), this.#everyMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Sends a ping to every actor that has none in flight. */
  beat(): void {
    for (const t of this.#targets) {
      const b = this.#beats.get(t.name)!;
      if (b.since !== null) continue;
      const since = this.#now();
      b.since = since;
      t.ping().then(
        () => { b.error = null; b.answered++; },
        (err: unknown) => { b.error = err instanceof Error ? err.message : String(err); },
      ).finally(() => { if (b.since === since) b.since = null; });
    }
  }

  /** Healthy unless a ping is overdue or the last one failed. */
  status(name: string): HeartbeatStatus {
    const b = this.#beats.get(name);
    if (b === undefined) return { ok: true };
    if (b.since !== null) {
      const waited = this.#now() - b.since;
      if (waited > this.#deadlineMs) {
        return { ok: false, detail: `no heartbeat answer for ${Math.round(waited)} ms (deadline ${this.#deadlineMs} ms)` };
      }
    }
    if (b.error !== null) return { ok: false, detail: `heartbeat failed: ${b.error}` };
    return { ok: true };
  }
}
