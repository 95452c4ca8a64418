import { Observable, filter, type Operator, type Observer, type Subscriber, type Subscription } from 'rxjs';

/**
 * A typed event bus: an Observable whose subscribers are guarded, fed by {@link EventBus.publish}.
 *
 * RxJS keeps other subscribers going when one throws, but then re-throws that error asynchronously
 * as an uncaught exception (unless the process-global `config.onUnhandledError` is set, which would
 * be module-level state). So every subscription made through {@link EventBus.events$} — directly or
 * after any `pipe(...)` — has its callbacks wrapped: a throwing subscriber is reported to
 * `onSubscriberError` and nothing else happens.
 *
 * @example
 * const bus = new EventBus<RuntimeEvent>();
 * bus.on('actor.restarted').subscribe((e) => log(e.actor));
 * bus.publish({ type: 'actor.restarted', at, actor: 'parser', reason: 'exit 1' });
 */
export class EventBus<E extends { type: string }> {
  /**
   * Subscribers, copied on (un)subscribe and never changed in place: a publish walks the array it
   * started with, as an RxJS Subject walks its snapshot (one subscribing meanwhile sees the next
   * event, one unsubscribing is stopped already). Not a Subject: its `next` allocated a closure
   * and an iterator per event, and the scheduler publishes three events per run.
   */
  #subs: ReadonlyArray<Subscriber<E>> = [];
  #completed = false;
  /** All events, in publish order. */
  readonly events$: Observable<E>;

  constructor(opts: { onSubscriberError?: (err: unknown) => void } = {}) {
    const report = opts.onSubscriberError ?? (() => undefined);
    this.events$ = new GuardedObservable<E>(report, (sub) => {
      if (this.#completed) {
        sub.complete();
        return undefined;
      }
      this.#subs = [...this.#subs, sub];
      return () => {
        this.#subs = this.#subs.filter((s) => s !== sub);
      };
    });
  }

  /** Delivers `e` to every current subscriber, synchronously. Never throws. */
  publish(e: E): void {
    const subs = this.#subs;
    for (let i = 0; i < subs.length; i++) subs[i]!.next(e);
  }

  /** Events of one type, narrowed. */
  on<T extends E['type']>(type: T): Observable<Extract<E, { type: T }>> {
    return this.events$.pipe(filter((e): e is Extract<E, { type: T }> => e.type === type));
  }

  /** Completes the stream for every subscriber. */
  complete(): void {
    this.#completed = true;
    const subs = this.#subs;
    this.#subs = [];
    for (const s of subs) s.complete();
  }
}

type Report = (err: unknown) => void;

/**
 * An Observable that stays guarded through `pipe()` (RxJS 7 operators build on `lift`) and wraps
 * the callbacks its subscribers pass in try/catch.
 * @internal
 */
class GuardedObservable<T> extends Observable<T> {
  readonly #report: Report;

  constructor(report: Report, subscribe?: (this: Observable<T>, subscriber: import('rxjs').Subscriber<T>) => unknown) {
    super(subscribe as never);
    this.#report = report;
  }

  override lift<R>(operator?: Operator<T, R>): Observable<R> {
    const next = new GuardedObservable<R>(this.#report);
    // The two deprecated-but-supported fields RxJS's own `lift` sets.
    next.source = this;
    next.operator = operator;
    return next;
  }

  override subscribe(observerOrNext?: Partial<Observer<T>> | ((value: T) => void) | null): Subscription {
    const o: Partial<Observer<T>> =
      typeof observerOrNext === 'function' ? { next: observerOrNext } : (observerOrNext ?? {});
    // One argument (next's value, error's error; none for complete): a rest parameter allocated an
    // array per event and subscriber, and the bus carries three events per run.
    const guard = <V>(fn: ((v: V) => void) | undefined) =>
      (v: V): void => {
        try {
          fn?.call(o, v);
        } catch (err) {
          this.#report(err);
        }
      };
    return super.subscribe({
      next: guard(o.next),
      // With no error callback RxJS would re-throw asynchronously; report instead.
      error: o.error ? guard(o.error) : (err: unknown) => this.#report(err),
      complete: guard<void>(o.complete),
    });
  }
}
