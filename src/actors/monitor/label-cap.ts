/**
 * Bounds the cardinality of a metric label: the first `max` distinct values are kept as they are,
 * later ones collapse into one overflow value. Prometheus keeps every series ever exported, so a
 * scheduler adding jobs with generated names must not grow the scrape without bound.
 */
export class LabelCap {
  readonly #max: number;
  readonly #overflow: string;
  readonly #seen = new Set<string>();
  #overflowed = 0;

  /** @param max distinct values kept. @param overflow the value used past the cap. @default '_other' */
  constructor(max: number, overflow = '_other') {
    this.#max = max;
    this.#overflow = overflow;
  }

  /** The label value to export for `value`. */
  label(value: string): string {
    if (this.#seen.has(value)) return value;
    if (this.#seen.size < this.#max) {
      this.#seen.add(value);
      return value;
    }
    this.#overflowed++;
    return this.#overflow;
  }

  /** How many observations were folded into the overflow value. */
  get overflowed(): number {
    return this.#overflowed;
  }
}
