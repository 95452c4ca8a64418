/** Output for people: aligned tables, relative times, durations. (`--json` output never comes here.) */
import stringWidth from 'string-width';
import type { WhyReport } from '../api';
import type { Health, Stats } from '../model/health';
import { formatDuration, formatSize } from '../model/duration';
import type { Command, Job, JobRow } from '../model/job';
import type { Run, RunTimes } from '../model/run';
import { triggerText, type TriggerStatus } from '../model/trigger-status';
import { loadLuxon } from './lazy';

export { formatSize } from '../model/duration';

/** `in 5m`, `2h ago`, `now` — the distance from `nowMs` to `iso`, in its largest unit. */
export function relativeTime(iso: string | null | undefined, nowMs: number = Date.now()): string {
  if (iso === null || iso === undefined) return '-';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '-';
  const diff = t - nowMs;
  const abs = Math.abs(diff);
  if (abs < 1000) return 'now';
  const span = abs < 60_000 ? `${Math.floor(abs / 1000)}s`
    : abs < 3_600_000 ? `${Math.floor(abs / 60_000)}m`
      : abs < 172_800_000 ? `${Math.floor(abs / 3_600_000)}h`
        : `${Math.floor(abs / 86_400_000)}d`;
  return diff > 0 ? `in ${span}` : `${span} ago`;
}

/**
 * A borderless table whose columns line up, with a header row: two spaces between columns, widths
 * in terminal cells (`string-width`: wide CJK characters count two, ANSI colours none). Hand-rolled
 * instead of cli-table3, which took seconds for a `list` of a few thousand jobs (it lays out every
 * cell as a box; here it is one pass for widths and one to pad).
 */
export function table(head: string[], rows: string[][]): string {
  const n = head.length;
  const all = [head, ...rows];
  // Each cell measured once. string-width builds a new RegExp per call (strip-ansi), which was the
  // largest single cost of `rae-sched list` with 10,000 jobs (~110 of ~700 ms CPU): printable ASCII,
  // almost every cell, is as wide as it is long. Flat arrays and shared padding strings: a table
  // of 60,000 cells built with nested map/join made most of its time garbage.
  const sizes = new Array<number>(all.length * n);
  const widths = new Array<number>(n).fill(0);
  for (let i = 0; i < all.length; i++) {
    for (let c = 0; c < n; c++) {
      const w = cellWidth(all[i]![c] ?? '');
      sizes[i * n + c] = w;
      if (w > widths[c]!) widths[c] = w;
    }
  }
  const pads: string[] = [];
  for (let k = 0; k <= Math.max(...widths) + 2; k++) pads.push(' '.repeat(k));
  let out = '';
  for (let i = 0; i < all.length; i++) {
    let line = '';
    for (let c = 0; c < n; c++) line += (all[i]![c] ?? '') + pads[widths[c]! - sizes[i * n + c]! + 2]!;
    out += (i === 0 ? '' : '\n') + line.trimEnd();
  }
  return out;
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
function cellWidth(v: string): number {
  return PRINTABLE_ASCII.test(v) ? v.length : stringWidth(v);
}

/** A command as people type it. */
export function commandText(command: Command | null, module: string | null, isolation?: string | null): string {
  if (module !== null) return `module ${module} (in a ${isolation ?? 'process'})`;
  if (command === null) return '-';
  return typeof command === 'string' ? command : command.argv.map(shellQuote).join(' ');
}

function shellQuote(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}

function lastRunText(run: RunTimes | null, nowMs: number): string {
  if (run === null) return '-';
  return `${run.status} ${relativeTime(run.finishedAt ?? run.startedAt ?? run.scheduledAt, nowMs)}`;
}

/**
 * A job's schedule as people read it: a one-time schedule typed in words shows them beside the
 * instant they resolved to, in the job's zone (`tomorrow at 9am (2026-12-02 09:00 Europe/Paris)`).
 */
export function scheduleText(job: Pick<Job, 'schedule' | 'scheduleText' | 'timezone'>): string {
  const typed = job.scheduleText ?? null;
  const at = /^at (\d{4}-\d\d-\d\dT[\d:.]+Z)$/.exec(job.schedule);
  if (typed === null || at === null) return job.schedule;
  // luxon only for a one-time schedule typed in words (most lists never load it).
  const { DateTime } = loadLuxon();
  const local = DateTime.fromISO(at[1]!, { zone: job.timezone ?? 'local' });
  if (!local.isValid) return `${typed} (${job.schedule})`;
  return `${typed} (${local.toFormat(local.second !== 0 ? 'yyyy-LL-dd HH:mm:ss' : 'yyyy-LL-dd HH:mm')} ${local.zoneName ?? 'UTC'})`;
}

/** `list`: one row per job (whole jobs, or the {@link JobRow}s an offline `list` reads). */
export function formatJobs(jobs: readonly JobRow[], nowMs: number = Date.now()): string {
  if (jobs.length === 0) return 'no jobs';
  return table(
    ['NAME', 'ID', 'SCHEDULE', 'STATE', 'NEXT', 'LAST'],
    jobs.map((j) => [j.name, j.id, scheduleText(j), j.state, relativeTime(j.nextRunAt, nowMs), lastRunText(j.lastRun, nowMs)]),
  );
}

/** `status`: one job's spec, state, last run and next run. */
export function formatJob(job: Job, nowMs: number = Date.now()): string {
  const limits = [
    job.limits.timeoutMs !== undefined ? `timeout ${formatDuration(job.limits.timeoutMs)}` : '',
    job.limits.maxMemoryBytes !== undefined ? `memory ${formatSize(job.limits.maxMemoryBytes)}` : '',
    job.limits.maxCpuPercent !== undefined ? `cpu ${job.limits.maxCpuPercent}%` : '',
  ].filter((s) => s !== '');
  const lines: [string, string][] = [
    ['name', job.name],
    ['id', job.id],
    ['schedule', job.scheduleText ? scheduleText(job) : job.schedule + (job.timezone ? ` (${job.timezone})` : '')],
    ['command', commandText(job.command, job.module, job.isolation)],
    ['state', job.state + (job.enabled ? '' : ' (disabled)')],
    ['next run', job.nextRunAt ? `${job.nextRunAt} (${relativeTime(job.nextRunAt, nowMs)})` : '-'],
    ['last run', job.lastRun ? `${formatRunLine(job.lastRun, nowMs)}` : '-'],
    ['priority', String(job.priority)],
    ['retry', `${job.retry.maxRetries} retries, backoff ${formatDuration(job.retry.backoffMs)}`],
    ['limits', limits.length > 0 ? limits.join(', ') : 'none'],
    ['overlap', job.overlap],
    ['catch-up', job.catchUp],
  ];
  if (job.cwd !== null) lines.push(['cwd', job.cwd]);
  if (Object.keys(job.env).length > 0) lines.push(['env', Object.keys(job.env).join(', ')]);
  if (job.inheritEnv) lines.push(['inherits env', job.inheritEnv === true ? 'all of the daemon\'s' : job.inheritEnv.join(', ')]);
  if (job.jitterMs > 0) lines.push(['jitter', formatDuration(job.jitterMs)]);
  if (job.triggerStatus !== undefined) {
    for (const t of job.triggerStatus) lines.push(['trigger', triggerStatusLine(t, nowMs)]);
  } else {
    for (const t of job.triggers) lines.push(['trigger', triggerText(t, formatDuration)]);
  }
  lines.push(['created', `${job.createdAt} (${relativeTime(job.createdAt, nowMs)})`]);
  return keyValues(lines);
}

function keyValues(lines: [string, string][]): string {
  const width = Math.max(...lines.map(([k]) => k.length)) + 2;
  return lines.map(([k, v]) => `${(k + ':').padEnd(width)}${v}`).join('\n');
}

function formatRunLine(run: Run, nowMs: number): string {
  const when = relativeTime(run.finishedAt ?? run.startedAt ?? run.scheduledAt, nowMs);
  const dur = run.durationMs !== null ? `, ${formatDuration(run.durationMs)}` : '';
  const exit = run.exitCode !== null ? `, exit ${run.exitCode}` : run.signal !== null ? `, ${run.signal}` : '';
  return `${run.status} ${when}${dur}${exit} (${run.id})`;
}

/** `history`: one row per run, newest first. */
export function formatRuns(runs: Run[], nowMs: number = Date.now()): string {
  if (runs.length === 0) return 'no runs';
  return table(
    ['RUN', 'STATUS', 'TRIGGER', 'ATTEMPT', 'STARTED', 'DURATION', 'EXIT'],
    runs.map((r) => [
      r.id, r.status, r.trigger, String(r.attempt), startedText(r, nowMs),
      r.durationMs !== null ? formatDuration(r.durationMs) : '-',
      r.exitCode !== null ? String(r.exitCode) : (r.signal ?? '-'),
    ]),
  );
}

/** When the run started; one that never did says so (skipped, interrupted before it began) or when it is due. */
function startedText(r: Run, nowMs: number): string {
  if (r.startedAt !== null) return relativeTime(r.startedAt, nowMs);
  if (r.status === 'queued') return `not started (due ${relativeTime(r.scheduledAt, nowMs)})`;
  return 'not started';
}

/** `run --wait`: the finished run, its error and the tail of its output. */
export function formatRun(run: Run, nowMs: number = Date.now()): string {
  const lines: [string, string][] = [
    ['run', run.id],
    ['job', run.jobId],
    ['status', run.status],
    ['trigger', `${run.trigger} (attempt ${run.attempt})`],
    ['started', run.startedAt ? `${run.startedAt} (${relativeTime(run.startedAt, nowMs)})` : startedText(run, nowMs)],
    ['duration', run.durationMs !== null ? formatDuration(run.durationMs) : '-'],
    ['exit', run.exitCode !== null ? String(run.exitCode) : (run.signal ?? '-')],
  ];
  if (run.error !== null) lines.push(['error', run.error]);
  const out = run.output.trimEnd();
  return keyValues(lines) + (out !== '' ? `\noutput:\n${out}` : '');
}

/** `health`: one row per component. */
export function formatHealth(h: Health): string {
  const rows = Object.entries(h.components).map(([name, c]) => [
    name, !c.healthy ? 'DOWN' : c.degraded === true ? 'degraded' : 'ok', c.restarts !== undefined ? String(c.restarts) : '-', c.detail ?? '',
  ]);
  const degraded = h.healthy && Object.values(h.components).some((c) => c.degraded === true) ? ' (degraded: see below)' : '';
  return `${h.healthy ? 'healthy' : 'UNHEALTHY'}${degraded}\n${table(['COMPONENT', 'STATUS', 'RESTARTS', 'DETAIL'], rows)}`;
}

/**
 * `stats`: counts, success rate, duration percentiles, queue, restarts. Without a daemon (`live`
 * false) only the stored history means anything: no uptime, queue or restarts are shown.
 */
export function formatStats(s: Stats, live = true): string {
  const ms = (v: number | null): string => (v === null ? '-' : formatDuration(v));
  const restarts = Object.entries(s.restarts).filter(([, n]) => n > 0).map(([a, n]) => `${a} ${n}`);
  const history: [string, string][] = [
    ['jobs', `${s.jobs.total} (${s.jobs.enabled} enabled, ${s.jobs.paused} paused, ${s.jobs.done} done)`],
    ['runs', `${s.runs.total} (${s.runs.succeeded} succeeded, ${s.runs.failed} failed, ${s.runs.timeout} timeout, ` +
      `${s.runs.killed} killed, ${s.runs.interrupted} interrupted, ${s.runs.skipped} skipped)`],
    ['success rate', s.runs.successRate === null ? '-' : `${(s.runs.successRate * 100).toFixed(1)}%`],
    ['duration', `p50 ${ms(s.durationMs.p50)}, p90 ${ms(s.durationMs.p90)}, p99 ${ms(s.durationMs.p99)}, max ${ms(s.durationMs.max)}`],
  ];
  if (!live) return `no daemon runs: stored history only (no uptime, queue or restarts)\n${keyValues(history)}`;
  return keyValues([
    ...history,
    ['queue', `${s.queue.depth} ready, ${s.queue.running} running, ${s.queue.scheduled} scheduled`],
    ['restarts', restarts.length > 0 ? restarts.join(', ') : 'none'],
    ['uptime', formatDuration(s.uptimeMs)],
  ]);
}

/**
 * One trigger and what it did: `watch /in — last fired 2m ago (run_...), 3 fires: 2 runs, 1 skipped`;
 * an `--after` upstream that no longer exists says so.
 */
export function triggerStatusLine(t: TriggerStatus, nowMs: number = Date.now()): string {
  const gone = t.upstreamExists === false && t.trigger?.type === 'after'
    ? ` — '${t.trigger.job}' no longer exists: it can never fire` : '';
  if (t.lastFiredAt === null) return `${t.text} — never fired${gone}`;
  const skipped = t.skipped > 0 ? `, ${t.skipped} skipped (overlap)` : '';
  return `${t.text} — last fired ${relativeTime(t.lastFiredAt, nowMs)} (${t.lastRunId ?? '-'}), ` +
    `${t.fires} ${t.fires === 1 ? 'fire' : 'fires'}: ${t.runs} ${t.runs === 1 ? 'run' : 'runs'}${skipped}${gone}`;
}

/** `why`'s trigger section: each trigger's line, its last reason and the newest runs it caused. */
function triggerLines(triggers: TriggerStatus[], nowMs: number): string {
  return triggers.map((t) => {
    const more = [
      t.lastReason !== null ? `\n      reason: ${t.lastReason}` : '',
      t.recentRunIds.length > 0 ? `\n      runs:   ${t.recentRunIds.join(', ')}` : '',
    ].join('');
    return `  - ${triggerStatusLine(t, nowMs)}${more}`;
  }).join('\n');
}

/** `why`: recent slots, the next run, what each trigger did and what could block it. */
export function formatWhy(w: WhyReport, nowMs: number = Date.now()): string {
  const head = keyValues([
    ['job', `${w.job.name} (${w.job.id})`],
    ['schedule', w.job.scheduleText ? scheduleText(w.job) : w.job.schedule + (w.job.timezone ? ` (${w.job.timezone})` : '')],
    ['state', w.job.state],
    ['next run', w.nextRunAt ? `${w.nextRunAt} (${relativeTime(w.nextRunAt, nowMs)})` : 'none'],
  ]);
  const blockers = w.blockers.length > 0 ? w.blockers.map((b) => `  - ${b}`).join('\n') : '  nothing';
  const slots = w.slots.length === 0 ? 'no recorded slots' : table(
    ['SLOT', 'WHEN', 'OUTCOME', 'RUN', 'REASON'],
    w.slots.map((s) => [s.at, relativeTime(s.at, nowMs), s.outcome, s.runId ?? '-', s.reason ?? '']),
  );
  const triggers = (w.triggers ?? []).length > 0 ? `\ntriggers:\n${triggerLines(w.triggers, nowMs)}` : '';
  return `${head}${triggers}\ncould block it:\n${blockers}\n${slots}`;
}

/** `next`: each fire time in UTC, in the schedule's zone, and relative to now. */
export function formatNext(dates: Date[], zone: string | undefined, nowMs: number = Date.now()): string {
  const { DateTime } = loadLuxon();
  const rows = dates.map((d) => {
    const local = DateTime.fromJSDate(d, zone !== undefined ? { zone } : {});
    return [d.toISOString(), local.toFormat('ccc yyyy-LL-dd HH:mm:ss ZZZZ'), relativeTime(d.toISOString(), nowMs)];
  });
  return table(['UTC', `LOCAL (${zone ?? DateTime.local().zoneName})`, 'WHEN'], rows);
}
