/**
 * Runs the measurements of each workload (every repetition in a fresh child), keeps every sample and
 * every failure, and summarises them. Repetitions are interleaved (rep 1 of every spec, then rep 2 …)
 * so that a burst of load on the shared machine hits rae-scheduler and the figure beside it alike.
 */
import { runChild } from './child';
import { fmt } from './report';
import { Progress } from './progress';
import { summarize } from './stats';
import type { Evaluation, MeasurementResult, MeasurementSpec, Mode, Sample, Summary } from './types';

/** What a workload's `run` gets. */
export interface WorkloadContext {
  mode: Mode;
  /** Repetitions: `defaults[mode]` unless `--reps` overrides. */
  reps(defaults: Record<Mode, number>): number;
  /** Runs every spec `reps` times, interleaved. */
  interleave(specs: MeasurementSpec[], reps: number): Promise<void>;
  /** Runs one repetition of `spec` now; resolves with its sample, or null when it failed (recorded). */
  once(spec: MeasurementSpec, rep?: { i: number; of: number }): Promise<Sample | null>;
  /** A line on the progress output. */
  info(text: string): void;
  /** `make()` once per run, shared by every workload that asks for `key`. */
  shared<T>(key: string, make: () => Promise<T>): Promise<T>;
}

/** A workload of the harness (W1 … W6). */
export interface Workload {
  id: string;
  title: string;
  run(ctx: WorkloadContext): Promise<void>;
  /** Rows and headline bars from the results (every measurement looked up by id). */
  evaluate(results: Results, mode: Mode): Evaluation;
}

/** Every measurement of the run, by id. */
export class Results {
  readonly #byId = new Map<string, MeasurementResult>();

  /** The result of `spec`, created on first use. */
  of(spec: MeasurementSpec): MeasurementResult {
    let r = this.#byId.get(spec.id);
    if (r === undefined) {
      r = { id: spec.id, label: spec.label, role: spec.role, args: spec.args, samples: [], errors: [], summary: {}, notes: [] };
      this.#byId.set(spec.id, r);
    }
    return r;
  }

  get(id: string): MeasurementResult | undefined {
    return this.#byId.get(id);
  }

  /** Summary of `metric` of measurement `id` (undefined if it never produced one). */
  s(id: string, metric: string): Summary | undefined {
    return this.#byId.get(id)?.summary[metric];
  }

  /** Median of `metric` of measurement `id`, or null. */
  m(id: string, metric: string): number | null {
    return this.s(id, metric)?.median ?? null;
  }

  /**
   * When some repetitions of `id` stopped at their time budget before reaching their size (metrics
   * `finished` < `target`), says so: `reached 131–137 of 200 runs within the budget in 2 of 2
   * repetitions (the rate is over what was reached)`; null when every repetition reached its size.
   */
  budgetNote(id: string, who?: string): string | null {
    const r = this.#byId.get(id);
    if (r === undefined) return null;
    const short = r.samples.filter((s) => s.metrics.target !== undefined && (s.metrics.finished ?? 0) < s.metrics.target);
    if (short.length === 0) return null;
    const f = short.map((s) => s.metrics.finished ?? 0);
    const lo = Math.min(...f);
    const hi = Math.max(...f);
    return `${who === undefined ? '' : `${who}: `}reached ${fmt(lo)}${hi !== lo ? `–${fmt(hi)}` : ''} of ${fmt(short[0]!.metrics.target)} within its time budget in ${short.length} of ${r.samples.length} repetitions (the rate is over what it reached)`;
  }

  /** Recomputes every summary from the samples, and the notes (deduplicated). */
  finish(): MeasurementResult[] {
    for (const r of this.#byId.values()) {
      const names = new Set(r.samples.flatMap((s) => Object.keys(s.metrics)));
      r.summary = {};
      for (const k of names) {
        const sum = summarize(r.samples.map((s) => s.metrics[k] ?? NaN));
        if (sum !== null) r.summary[k] = sum;
      }
      r.notes = [...new Set(r.samples.flatMap((s) => s.notes ?? []))];
    }
    return [...this.#byId.values()];
  }
}

/** Runs the workloads in order with one progress reporter; returns all results. */
export async function runWorkloads(
  workloads: Workload[], mode: Mode, repsOverride: number | null, progress: Progress,
): Promise<{ results: Results; evaluations: Map<string, Evaluation> }> {
  const results = new Results();
  const memo = new Map<string, Promise<unknown>>();
  for (const w of workloads) {
    progress.info(`${w.id} ${w.title}`);
    const ctx: WorkloadContext = {
      mode,
      reps: (d) => repsOverride ?? d[mode],
      info: (t) => progress.info(`  ${t}`),
      shared: <T>(key: string, make: () => Promise<T>): Promise<T> => {
        if (!memo.has(key)) memo.set(key, make());
        return memo.get(key) as Promise<T>;
      },
      once: async (spec, rep) => {
        const r = results.of(spec);
        progress.step(`${spec.id} ${spec.label}${rep && rep.of > 1 ? ` · rep ${rep.i}/${rep.of}` : ''}`);
        try {
          const sample = await runChild(spec.file, spec.fn, spec.args, {
            timeoutMs: spec.timeoutMs, execArgv: spec.execArgv, onProgress: (t) => progress.info(`  ${spec.id}: ${t}`),
          });
          r.samples.push(sample);
          const cut = sample.notes?.find((n) => n.startsWith('no result within'));
          progress.done(cut === undefined ? headlineOf(sample) : `PARTIAL (${cut}): ${headlineOf(sample)}`);
          return sample;
        } catch (err) {
          const msg = (err as Error).message;
          r.errors.push(msg);
          progress.done(`FAILED: ${msg}`);
          return null;
        }
      },
      interleave: async (specs, reps) => {
        for (let i = 1; i <= reps; i++) {
          for (const spec of specs) await ctx.once(spec, { i, of: reps });
        }
      },
    };
    await w.run(ctx);
  }
  results.finish();
  const evaluations = new Map<string, Evaluation>();
  for (const w of workloads) evaluations.set(w.id, w.evaluate(results, mode));
  return { results, evaluations };
}

/** The first few metrics of a sample, for the progress line. */
function headlineOf(s: Sample): string {
  return Object.entries(s.metrics).slice(0, 2).map(([k, v]) => `${k} ${fmt(v)}`).join(', ');
}
