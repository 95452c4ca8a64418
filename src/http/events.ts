/**
 * Live events for HTTP clients: a bounded ring of the most recent scheduler events, each with an id,
 * so a Server-Sent Events client that reconnects with `Last-Event-ID` gets what it missed; and the
 * two stream encodings (SSE for browsers and `curl`, NDJSON for the CLI).
 */
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { Subject, type Observable, type Subscription } from 'rxjs';
import type { SchedulerEvent } from '../model/events';

/** One event with its stream id (`<boot>.<seq>`: ids of an earlier daemon never match this one's). */
export interface NumberedEvent {
  id: string;
  seq: number;
  event: SchedulerEvent;
}

/** Default number of recent events kept for resuming clients. */
export const DEFAULT_RING_SIZE = 1000;

/**
 * Numbers every event of `events$` and keeps the last `size` of them.
 * @example
 * const ring = new EventRing(scheduler.events$);
 * const { missed, gap } = ring.since(req.headers['last-event-id']);
 */
export class EventRing {
  readonly #boot = randomBytes(4).toString('hex');
  readonly #size: number;
  readonly #ring: NumberedEvent[] = [];
  readonly #live = new Subject<NumberedEvent>();
  readonly #sub: Subscription;
  #seq = 0;

  constructor(events$: Observable<SchedulerEvent>, size = DEFAULT_RING_SIZE) {
    this.#size = size;
    this.#sub = events$.subscribe({
      next: (event) => {
        const n: NumberedEvent = { id: `${this.#boot}.${++this.#seq}`, seq: this.#seq, event };
        this.#ring.push(n);
        if (this.#ring.length > this.#size) this.#ring.shift();
        this.#live.next(n);
      },
      complete: () => this.#live.complete(),
      error: () => this.#live.complete(),
    });
  }

  /** Events as they come, numbered. */
  get live$(): Observable<NumberedEvent> {
    return this.#live;
  }

  /**
   * The kept events after `lastId`. `gap` is true (and nothing is replayed) when some events after it
   * are no longer kept, or the id is from another daemon's life: the client must reload its state.
   */
  since(lastId: string | undefined): { missed: NumberedEvent[]; gap: boolean } {
    if (lastId === undefined || lastId === '') return { missed: [], gap: false };
    const [boot, seqText] = lastId.split('.');
    const seq = Number(seqText);
    if (boot !== this.#boot || !Number.isInteger(seq) || seq < 0 || seq > this.#seq) return { missed: [], gap: true };
    const oldest = this.#ring[0]?.seq ?? this.#seq + 1;
    if (seq < oldest - 1) return { missed: [], gap: true };
    return { missed: this.#ring.filter((e) => e.seq > seq), gap: false };
  }

  /** Stops listening to the scheduler and ends every live stream. */
  close(): void {
    this.#sub.unsubscribe();
    this.#live.complete();
  }
}

/** Open event streams of a server, ended together at shutdown. */
export class StreamSet {
  readonly #open = new Set<{ res: ServerResponse; stop: () => void }>();

  /**
   * Streams `ring` to `res` as SSE (`sse`) or NDJSON until the client leaves or {@link closeAll}.
   * SSE sends a comment every `heartbeatMs` so idle-connection timeouts and proxies keep it open.
   * `stillAllowed` is asked on the same period: when the credentials the stream was opened with are
   * revoked or expire, the stream ends (the client's reconnect then gets 401).
   */
  open(res: ServerResponse, ring: EventRing, opts: { sse: boolean; lastEventId?: string; heartbeatMs?: number; stillAllowed?: () => boolean }): void {
    const headers: Record<string, string> = opts.sse
      ? { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' }
      : { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' };
    res.writeHead(200, headers);
    const write = (n: NumberedEvent): void => {
      res.write(opts.sse ? `id: ${n.id}\ndata: ${JSON.stringify(n.event)}\n\n` : JSON.stringify(n.event) + '\n');
    };
    if (opts.sse) {
      res.write('retry: 2000\n\n');
      const { missed, gap } = ring.since(opts.lastEventId);
      if (gap) res.write(`event: gap\ndata: {"reason":"events after Last-Event-ID are no longer kept; reload"}\n\n`);
      for (const n of missed) write(n);
    } else {
      // Flush the headers now so a client knows the stream is open before the first event.
      res.flushHeaders();
    }
    // Subscribed in the same turn as the replay above: no event falls between the two.
    const sub = ring.live$.subscribe({ next: write, complete: () => res.end() });
    const beat = opts.sse || opts.stillAllowed ? setInterval(() => {
      if (opts.stillAllowed !== undefined && !opts.stillAllowed()) {
        entry.stop();
        res.end();
        return;
      }
      if (opts.sse) res.write(': ping\n\n');
    }, opts.heartbeatMs ?? 15_000) : undefined;
    beat?.unref();
    const entry = {
      res,
      stop: (): void => {
        sub.unsubscribe();
        if (beat) clearInterval(beat);
        this.#open.delete(entry);
      },
    };
    this.#open.add(entry);
    res.on('close', entry.stop);
  }

  /** Streams open now. */
  get size(): number {
    return this.#open.size;
  }

  /** Ends every open stream. */
  closeAll(): void {
    for (const s of [...this.#open]) {
      s.stop();
      s.res.end();
    }
  }
}
