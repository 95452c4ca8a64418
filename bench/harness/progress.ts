/**
 * Progress on stderr: on a terminal one live line (workload, measurement, repetition, elapsed),
 * rewritten twice a second; otherwise (CI, a log file) one line per step.
 */

const clock = (ms: number): string => {
  const s = Math.floor(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
};

/** The progress reporter of one run. */
export class Progress {
  readonly #out: NodeJS.WriteStream;
  readonly #tty: boolean;
  readonly #t0 = Date.now();
  #step = '';
  #stepAt = Date.now();
  #timer: NodeJS.Timeout | null = null;

  constructor(out: NodeJS.WriteStream = process.stderr) {
    this.#out = out;
    this.#tty = out.isTTY === true;
    if (this.#tty) {
      this.#timer = setInterval(() => this.#draw(), 500);
      this.#timer.unref();
    }
  }

  /** A step starts (e.g. `W3 croner 1,000 jobs · rep 1/2`). */
  step(text: string): void {
    this.#step = text;
    this.#stepAt = Date.now();
    if (this.#tty) this.#draw();
    else this.#out.write(`[${clock(Date.now() - this.#t0)}] ${text}\n`);
  }

  /** A step ended: one permanent line (`text` = its outcome). */
  done(text: string): void {
    const took = ((Date.now() - this.#stepAt) / 1000).toFixed(1);
    const line = `[${clock(Date.now() - this.#t0)}] ${this.#step}: ${text} (${took} s)`;
    if (this.#tty) this.#out.write(`\r\x1b[K${line}\n`);
    else this.#out.write(`${line}\n`);
    this.#step = '';
  }

  /** A line that is not a step (a workload heading, the written files). */
  info(text: string): void {
    this.#out.write(`${this.#tty ? '\r\x1b[K' : ''}${text}\n`);
  }

  stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    if (this.#tty) this.#out.write('\r\x1b[K');
  }

  #draw(): void {
    if (this.#step === '') return;
    const cols = this.#out.columns ?? 120;
    const line = `[${clock(Date.now() - this.#t0)}] ${this.#step} · ${((Date.now() - this.#stepAt) / 1000).toFixed(0)} s`;
    this.#out.write(`\r\x1b[K${line.slice(0, cols - 1)}`);
  }
}
