/**
 * The health of one scheduler, assembled from checks (src/actors/monitor/checks.ts): one
 * component per supervised actor (running, restarts, heartbeat within its deadline), the store,
 * free disk, event-loop lag, the trigger hub's watches and usage sampler, runs past their timeout
 * and the dead-man's switch. Every check reads memory only (samples and heartbeats are taken in the
 * background), so `health` costs the same with 100,000 jobs as with one and never waits on an actor.
 * To add a check, add an entry to {@link SchedulerHealth.checks}'s list.
 */
import type { ComponentHealth, Health } from './api';
import type { Clock } from './runtime/clock';
import type { Run } from './model/run';
import { DeadMan, type DueEntry } from './actors/monitor/dead-man';
import { Heartbeats, type HeartbeatTarget } from './actors/monitor/heartbeats';
import {
  diskCheck, eventLoopCheck, ProcessSampler, runChecks, storeCheck, type HealthCheck, type HealthSettings,
} from './actors/monitor/checks';
import type { TriggerHealth } from './actors/triggers/hub';
import { RETRY_KEY_PREFIX } from './actors/queue/actor';
import { containment } from './workers/run/cgroup-detect';

/** Where the checks read from (the facade wires them to its actors' live state). */
export interface HealthSources {
  clock: Clock;
  dataDir: string;
  settings: HealthSettings;
  /** The root supervisor's children. */
  children(): Array<{ id: string; running: boolean; restarts: number }>;
  /** Actors to heartbeat. */
  heartbeatTargets: HeartbeatTarget[];
  storeFault(): string | null;
  /** The timeline's earliest entry, or null (no queue incarnation, or empty). */
  earliest(): { key: string; at: number } | null;
  running(): Array<{ run: Run; timeoutMs: number | null }>;
  /** The trigger hub's health, or null (offline mode, or mid-restart). */
  triggers(): TriggerHealth | null;
  /** A job's name for messages (null if unknown). */
  nameOf(jobId: string): string | null;
}

/** Checks, heartbeats, samplers and the dead-man's state of one scheduler. */
export class SchedulerHealth {
  readonly #s: HealthSources;
  readonly heartbeats: Heartbeats;
  readonly sampler: ProcessSampler;
  readonly deadMan = new DeadMan();
  /** Extra checks (other parts of the scheduler add theirs here). */
  readonly extra: HealthCheck[] = [];

  constructor(sources: HealthSources) {
    this.#s = sources;
    this.heartbeats = new Heartbeats({
      targets: sources.heartbeatTargets,
      everyMs: sources.settings.heartbeatEveryMs,
      deadlineMs: sources.settings.heartbeatTimeoutMs,
    });
    this.sampler = new ProcessSampler(sources.dataDir, sources.settings.sampleEveryMs);
  }

  start(): void {
    this.heartbeats.start();
    this.sampler.start();
  }

  stop(): void {
    this.heartbeats.stop();
    this.sampler.stop();
  }

  /** The timer handed `due` to the scheduler / the scheduler handled it (dead-man's switch). */
  handedOver(due: DueEntry[]): void {
    this.deadMan.handedOver(due);
  }

  handled(due: DueEntry[]): void {
    this.deadMan.handled(due);
  }

  /** Every check, in the order `health` shows them. */
  checks(): HealthCheck[] {
    const s = this.#s;
    const sample = () => this.sampler.sample;
    return [
      ...s.children().map((c) => this.#actorCheck(c)),
      storeCheck(s.storeFault, sample),
      diskCheck(s.settings, sample),
      eventLoopCheck(s.settings, sample),
      { name: 'watches', run: () => this.#triggers() },
      { name: 'sampler', run: () => this.#sampler() },
      { name: 'runs', run: () => this.#runs() },
      { name: 'deadman', run: () => this.#deadMan() },
      // Which mechanism contains the runs' process trees (docs/jobs.md "Containment").
      { name: 'containment', run: () => ({ healthy: true, detail: containment().summary }) },
      ...this.extra,
    ];
  }

  /** Runs every check now. */
  health(): Health {
    return runChecks(this.checks());
  }

  #actorCheck(c: { id: string; running: boolean; restarts: number }): HealthCheck {
    return {
      name: c.id,
      run: () => {
        const beat = this.heartbeats.status(c.id);
        if (!c.running) {
          // Mid-restart: also say why, when its last heartbeat knows (the crash that ended the
          // incarnation), rather than only that it is down — a poll often lands in this window.
          const why = beat.ok ? '' : `; ${beat.detail}`;
          return { healthy: false, restarts: c.restarts, detail: `${c.restarts > 0 ? `restarting (restart ${c.restarts})` : 'not running'}${why}` };
        }
        return beat.ok ? { healthy: true, restarts: c.restarts } : { healthy: false, restarts: c.restarts, detail: beat.detail };
      },
    };
  }

  #triggers(): ComponentHealth | null {
    const t = this.#s.triggers();
    if (t === null) return null;
    const base = `${t.watches} watched paths, ${t.conditions} usage conditions`;
    if (t.deadCount === 0) return { healthy: true, detail: base };
    const named = t.dead.map((d) => `${this.#s.nameOf(d.jobId) ?? d.jobId}: ${d.detail}`).join('; ');
    const more = t.deadCount > t.dead.length ? ` (and ${t.deadCount - t.dead.length} more)` : '';
    return { healthy: false, detail: `${t.deadCount} dead watch${t.deadCount === 1 ? '' : 'es'} (retried with backoff) — ${named}${more}; ${base}` };
  }

  #sampler(): ComponentHealth | null {
    const h = this.#s.triggers()?.sampler ?? null;
    if (h === null) return null;
    return h.healthy ? { healthy: true, detail: `sampling every ${h.periodMs} ms` } : { healthy: false, detail: h.detail ?? 'unhealthy' };
  }

  /** No run past its timeout (plus a grace for the kill): the executor would have ended it. */
  #runs(): ComponentHealth {
    const now = this.#s.clock.now();
    const grace = this.#s.settings.runTimeoutGraceMs;
    const late: string[] = [];
    let running = 0;
    for (const { run, timeoutMs } of this.#s.running()) {
      running++;
      if (timeoutMs === null || run.startedAt === null) continue;
      const over = now - Date.parse(run.startedAt) - timeoutMs;
      if (over > grace) late.push(`${run.id} of ${this.#s.nameOf(run.jobId) ?? run.jobId} is ${Math.round(over / 1000)} s past its ${Math.round(timeoutMs / 1000)} s timeout`);
    }
    if (late.length === 0) return { healthy: true, detail: `${running} running` };
    return { healthy: false, detail: `${late.length} run${late.length === 1 ? '' : 's'} past the timeout: ${late.slice(0, 5).join('; ')}` };
  }

  #deadMan(): ComponentHealth {
    const tolerance = this.#s.settings.deadManToleranceMs;
    const now = this.#s.clock.now();
    const o = this.deadMan.overdue(now, tolerance, this.#s.earliest());
    if (o === null) return { healthy: true, detail: `no fire overdue by more than ${tolerance} ms` };
    const who = o.key.startsWith(RETRY_KEY_PREFIX)
      ? `the retry of run ${o.key.slice(RETRY_KEY_PREFIX.length)}`
      : `job '${this.#s.nameOf(o.key) ?? o.key}' (${o.key})`;
    const others = o.others > 0 ? ` (and ${o.others} more fires in the same batch)` : '';
    return {
      healthy: false,
      detail: `${who} was expected to fire at ${new Date(o.at).toISOString()}, ${Math.round((now - o.at) / 1000)} s ago, with no recorded outcome${others}`,
    };
  }
}
