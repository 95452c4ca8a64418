/** Output for people: aligned tables, relative times, durations. (`--json` output never comes here.) */
import stringWidth from 'string-width';
import type { Health, Stats, WhyReport } from '../api';
import { formatDuration } from '../model/duration';
import type { Command, Job } from '../model/job';
import type { Run } from '../model/run';
import { loadLuxon } from './lazy';

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
  const all = [head, ...rows];
  const widths = head.map((_, c) => all.reduce((w, r) => Math.max(w, stringWidth(r[c] ?? '')), 0));
  return all.map((r) => r.map((v, c) => v + ' '.repeat(widths[c]! - stringWidth(v) + 2)).join('').trimEnd()).join('\n');
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

function lastRunText(run: Run | null, nowMs: number): string {
  if (run === null) return '-';
  return `${run.status} ${relativeTime(run.finishedAt ?? run.startedAt ?? run.scheduledAt, nowMs)}`;
}

/** A byte count as people write it for `--max-memory` (`256MB`, `1.5GB`, `512KB`, `100 bytes`). */
export function formatSize(bytes: number): string {
  const units: [number, string][] = [[1024 ** 3, 'GB'], [1024 ** 2, 'MB'], [1024, 'KB']];
  for (const [size, unit] of units) {
    if (bytes >= size) return `${Number((bytes / size).toFixed(1))}${unit}`;
  }
  return `${bytes} bytes`;
}

/** `list`: one row per job. */
export function formatJobs(jobs: Job[], nowMs: number = Date.now()): string {
  if (jobs.length === 0) return 'no jobs';
  return table(
    ['NAME', 'ID', 'SCHEDULE', 'STATE', 'NEXT', 'LAST'],
    jobs.map((j) => [j.name, j.id, j.schedule, j.state, relativeTime(j.nextRunAt, nowMs), lastRunText(j.lastRun, nowMs)]),
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
    ['schedule', job.schedule + (job.timezone ? ` (${job.timezone})` : '')],
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
  for (const t of job.triggers) {
    const text = t.type === 'watch' ? `watch ${t.paths.join(', ')}`
      : t.type === 'after' ? `after ${t.job} ${t.on}`
        : `when ${t.condition}${t.cooldownMs !== undefined ? ` (cooldown ${formatDuration(t.cooldownMs)})` : ''}`;
    lines.push(['trigger', text]);
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
    name, c.healthy ? 'ok' : 'DOWN', c.restarts !== undefined ? String(c.restarts) : '-', c.detail ?? '',
  ]);
  return `${h.healthy ? 'healthy' : 'UNHEALTHY'}\n${table(['COMPONENT', 'STATUS', 'RESTARTS', 'DETAIL'], rows)}`;
}

/**
 * `stats`: counts, success rate, duration percentiles, queue, restarts. Without a daemon (`live`
 * false) only the stored history means anything: no uptime, queue or restarts are shown.
 */
export function formatStats(s: Stats, live = true): string {
  const ms = (v: number | null): string => (v === null ? '-' : formatDuration(v));
  const restarts = Object.entries(s.restarts).filter(([, n]) => n > 0).map(([a, n]) => `${a} ${n}`);
  const stored = keyValues([
    ['jobs', `${s.jobs.total} (${s.jobs.enabled} enabled, ${s.jobs.paused} paused, ${s.jobs.done} done)`],
    ['runs', `${s.runs.total} (${s.runs.succeeded} succeeded, ${s.runs.failed} failed, ${s.runs.timeout} timeout, ` +
      `${s.runs.killed} killed, ${s.runs.interrupted} interrupted, ${s.runs.skipped} skipped)`],
    ['success rate', s.runs.successRate === null ? '-' : `${(s.runs.successRate * 100).toFixed(1)}%`],
    ['duration', `p50 ${ms(s.durationMs.p50)}, p90 ${ms(s.durationMs.p90)}, p99 ${ms(s.durationMs.p99)}, max ${ms(s.durationMs.max)}`],
  ]);
  if (!live) return `no daemon runs: stored history only (no uptime, queue or restarts)\n${stored}`;
  return keyValues([
    ['jobs', `${s.jobs.total} (${s.jobs.enabled} enabled, ${s.jobs.paused} paused, ${s.jobs.done} done)`],
    ['runs', `${s.runs.total} (${s.runs.succeeded} succeeded, ${s.runs.failed} failed, ${s.runs.timeout} timeout, ` +
      `${s.runs.killed} killed, ${s.runs.interrupted} interrupted, ${s.runs.skipped} skipped)`],
    ['success rate', s.runs.successRate === null ? '-' : `${(s.runs.successRate * 100).toFixed(1)}%`],
    ['duration', `p50 ${ms(s.durationMs.p50)}, p90 ${ms(s.durationMs.p90)}, p99 ${ms(s.durationMs.p99)}, max ${ms(s.durationMs.max)}`],
    ['queue', `${s.queue.depth} ready, ${s.queue.running} running, ${s.queue.scheduled} scheduled`],
    ['restarts', restarts.length > 0 ? restarts.join(', ') : 'none'],
    ['uptime', formatDuration(s.uptimeMs)],
  ]);
}

/**
 * `why` of a job with triggers: each one, when it last caused a run and how many of `recent` it
 * caused. `watch` and `when` both cause `event` runs (a run does not record which of the two).
 */
function triggerLines(job: Job, recent: Run[], nowMs: number): string {
  const caused = (kind: Run['trigger']): string => {
    const runs = recent.filter((r) => r.trigger === kind);
    if (runs.length === 0) return 'never fired (in the last runs kept)';
    const last = runs[0]!;
    return `last fired ${relativeTime(last.scheduledAt, nowMs)} (${last.id} ${last.status}), ${runs.length} runs caused`;
  };
  return job.triggers.map((t) => {
    const what = t.type === 'watch' ? `watch ${t.paths.join(', ')}` : t.type === 'after' ? `after ${t.job} ${t.on}` : `when ${t.condition}`;
    return `  - ${what}: ${caused(t.type === 'after' ? 'dependency' : 'event')}`;
  }).join('\n');
}

/** `why`: recent slots, the next run and what could block it; with `recent` runs, what each trigger caused. */
export function formatWhy(w: WhyReport, nowMs: number = Date.now(), recent: Run[] = []): string {
  const head = keyValues([
    ['job', `${w.job.name} (${w.job.id})`],
    ['schedule', w.job.schedule + (w.job.timezone ? ` (${w.job.timezone})` : '')],
    ['state', w.job.state],
    ['next run', w.nextRunAt ? `${w.nextRunAt} (${relativeTime(w.nextRunAt, nowMs)})` : 'none'],
  ]);
  const blockers = w.blockers.length > 0 ? w.blockers.map((b) => `  - ${b}`).join('\n') : '  nothing';
  const slots = w.slots.length === 0 ? 'no recorded slots' : table(
    ['SLOT', 'WHEN', 'OUTCOME', 'RUN', 'REASON'],
    w.slots.map((s) => [s.at, relativeTime(s.at, nowMs), s.outcome, s.runId ?? '-', s.reason ?? '']),
  );
  const triggers = w.job.triggers.length > 0 ? `\ntriggers:\n${triggerLines(w.job, recent, nowMs)}` : '';
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
