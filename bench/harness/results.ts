/** Writes a run's files: bench/results/latest.json, latest.md and (full runs of everything) chart.svg. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderChart } from './chart';
import { renderMarkdown, type ResultsDocument } from './report';

/** bench/results in the source tree (this file runs from dist/bench/harness). */
export const RESULTS_DIR = path.join(__dirname, '..', '..', '..', 'bench', 'results');

/** The commit the run measured: $BENCH_COMMIT if set (a copy outside git), else git's HEAD; null if unknown. */
export function gitCommit(): string | null {
  if (process.env.BENCH_COMMIT) return process.env.BENCH_COMMIT;
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: RESULTS_DIR, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'bench', 'package.json'], { cwd: RESULTS_DIR, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    return dirty === '' ? head : `${head}+changes`;
  } catch {
    return null;
  }
}

/** Writes the files; returns their paths. The chart only for a full run of every workload. */
export function writeResults(doc: ResultsDocument, dir = RESULTS_DIR): string[] {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const put = (name: string, body: string): void => {
    const p = path.join(dir, name);
    writeFileSync(p, body);
    written.push(p);
  };
  put('latest.json', `${JSON.stringify(doc, null, 2)}\n`);
  put('latest.md', renderMarkdown(doc));
  if (doc.info.mode === 'full' && doc.info.complete) {
    const i = doc.info;
    put('chart.svg', renderChart(doc.headline, `${i.date.slice(0, 16).replace('T', ' ')} UTC · full run · node ${i.node} · ${i.cpus} × ${i.cpuModel ?? 'CPU'} · load ${i.loadavgStart.map((x) => x.toFixed(1)).join('/')}`));
  }
  return written;
}
