/**
 * Job name → index row, as an open-addressing hash table in typed arrays (the names themselves stay
 * in the index's row column). Start-up puts a million names in it: a `Map` insert there costs
 * ~3 µs on a loaded machine (its table is re-hashed as it grows, and every entry is a pointer the
 * garbage collector has to track), a slot in an Int32Array a small fraction of that.
 */

const EMPTY = 0;
/** A removed entry: probing goes on past it. */
const TOMBSTONE = -1;

/** FNV-1a over UTF-16 code units: good enough spread for names, cheap for short strings. */
function hashOf(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Name → row; `nameAt(row)` is the name stored for a row. */
export class NameTable {
  /** Row + 1 per slot (EMPTY, TOMBSTONE). */
  #slots = new Int32Array(1024);
  /** Hash of the name in each slot (re-hashing on growth does not read the strings). */
  #hashes = new Uint32Array(1024);
  #used = 0;
  #live = 0;

  constructor(readonly nameAt: (row: number) => string) {}

  #find(name: string, h: number): number {
    const mask = this.#slots.length - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const s = this.#slots[i]!;
      if (s === EMPTY) return -1 - i;
      if (s > 0 && this.#hashes[i] === h && this.nameAt(s - 1) === name) return i;
    }
  }

  get(name: string): number | undefined {
    const i = this.#find(name, hashOf(name));
    return i >= 0 ? this.#slots[i]! - 1 : undefined;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Maps `name` (which `nameAt(row)` must return) to `row`. */
  set(name: string, row: number): void {
    const h = hashOf(name);
    const i = this.#find(name, h);
    if (i >= 0) {
      this.#slots[i] = row + 1;
      return;
    }
    if ((this.#used + 1) * 2 > this.#slots.length) {
      this.#grow();
      this.set(name, row);
      return;
    }
    const at = -1 - i;
    this.#slots[at] = row + 1;
    this.#hashes[at] = h;
    this.#used++;
    this.#live++;
  }

  delete(name: string): boolean {
    const i = this.#find(name, hashOf(name));
    if (i < 0) return false;
    this.#slots[i] = TOMBSTONE;
    this.#live--;
    return true;
  }

  clear(): void {
    this.#slots = new Int32Array(1024);
    this.#hashes = new Uint32Array(1024);
    this.#used = this.#live = 0;
  }

  /** Twice the room (or the same, when tombstones were most of it), without the tombstones. */
  #grow(): void {
    const slots = this.#slots;
    const hashes = this.#hashes;
    const size = this.#live * 4 > slots.length ? slots.length * 2 : slots.length;
    this.#slots = new Int32Array(size);
    this.#hashes = new Uint32Array(size);
    const mask = size - 1;
    for (let j = 0; j < slots.length; j++) {
      const s = slots[j]!;
      if (s <= 0) continue;
      let i = hashes[j]! & mask;
      while (this.#slots[i] !== EMPTY) i = (i + 1) & mask;
      this.#slots[i] = s;
      this.#hashes[i] = hashes[j]!;
    }
    this.#used = this.#live;
  }
}
