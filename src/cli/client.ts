/**
 * `RemoteScheduler`: the Scheduler interface spoken over the daemon's control socket (HTTP + JSON),
 * so every CLI command is written once against `Scheduler` and runs the same with or without a daemon.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Observable } from 'rxjs';
import {
  DaemonUnavailableError, SchedulerError, deserializeError, isSerializedError,
} from '../errors';
import type { BackupDocument, Health, JobPage, ListJobsOptions, Scheduler, Stats, WhyReport } from '../api';
import type { Job, JobSpec } from '../model/job';
import type { Run } from '../model/run';
import type { SchedulerEvent } from '../model/events';
import { API_PREFIX } from './api-path';
import { loadRxjs } from './lazy';

/**
 * True when a process accepts connections on `socketPath`. A socket file left by a dead daemon
 * refuses them (ECONNREFUSED), so this tells a live daemon from a stale file.
 */
export async function daemonAnswers(socketPath: string, timeoutMs = 2000): Promise<boolean> {
  const sock = await connectDaemon(socketPath, timeoutMs);
  sock?.destroy();
  return sock !== null;
}

/**
 * {@link daemonAnswers}, keeping the connection: a connected socket to the daemon (null when none
 * answers). A command's first request goes over it (RemoteScheduler's `connected`), so the probe
 * costs no second connect — on a loaded machine each one is another wait for the event loop.
 */
export function connectDaemon(socketPath: string, timeoutMs = 2000): Promise<Socket | null> {
  return new Promise((resolveSocket) => {
    const sock = connect(socketPath);
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      sock.removeAllListeners('connect').removeAllListeners('error');
      // Until the first request takes it, an error on the kept connection (the daemon stopping
      // before it accepted) must not be an unhandled 'error' event (a crash with a stack trace):
      // the socket is dropped and that request opens a fresh one (RemoteScheduler #send).
      if (ok) sock.once('error', () => sock.destroy());
      else sock.destroy();
      resolveSocket(ok ? sock : null);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

const enc = encodeURIComponent;
/** Page size the client reads whole lists with. */
const CLIENT_PAGE = 1000;

/** A Scheduler whose every call is a request to the daemon on `socketPath`. */
export class RemoteScheduler implements Scheduler {
  readonly #socketPath: string;
  /** A connection already open to the daemon (from {@link connectDaemon}), used by the first request. */
  #connected: Socket | null;

  constructor(socketPath: string, connected: Socket | null = null) {
    this.#socketPath = socketPath;
    this.#connected = connected;
  }

  addJob(spec: JobSpec): Promise<Job> {
    return this.#call('POST', '/jobs', spec);
  }
  async removeJob(idOrName: string): Promise<void> {
    await this.#call('DELETE', `/jobs/${enc(idOrName)}`);
  }
  getJob(idOrName: string): Promise<Job> {
    return this.#call('GET', `/jobs/${enc(idOrName)}`);
  }
  listJobs(): Promise<Job[]>;
  listJobs(opts: ListJobsOptions): Promise<JobPage>;
  async listJobs(opts?: ListJobsOptions): Promise<Job[] | JobPage> {
    if (opts !== undefined) return this.#page(opts);
    // Every job: the API serves pages, followed here (Link: rel="next") until the last one.
    const all: Job[] = [];
    for (let after: string | undefined; ;) {
      const page = await this.#page({ limit: CLIENT_PAGE, ...(after !== undefined ? { after } : {}) });
      all.push(...page.jobs);
      if (page.next === null) return all;
      after = page.next;
    }
  }
  /** One page: the body is the array of jobs, the next cursor is in the `Link` header. */
  async #page(opts: ListJobsOptions): Promise<JobPage> {
    const q = new URLSearchParams();
    if (opts.limit !== undefined) q.set('limit', String(opts.limit));
    if (opts.after !== undefined) q.set('after', opts.after);
    const res = await this.#send('GET', `/jobs${q.toString() !== '' ? `?${q.toString()}` : ''}`);
    const text = await readBody(res);
    if ((res.statusCode ?? 0) >= 400) throw errorFromBody(res.statusCode ?? 0, text);
    const link = /[?&]after=([^&>]+)[^>]*>;\s*rel="next"/.exec(String(res.headers.link ?? ''));
    return { jobs: JSON.parse(text) as Job[], next: link === null ? null : decodeURIComponent(link[1]!) };
  }
  pauseJob(idOrName: string): Promise<Job> {
    return this.#call('POST', `/jobs/${enc(idOrName)}/pause`);
  }
  resumeJob(idOrName: string): Promise<Job> {
    return this.#call('POST', `/jobs/${enc(idOrName)}/resume`);
  }
  runNow(idOrName: string): Promise<Run> {
    return this.#call('POST', `/jobs/${enc(idOrName)}/run`);
  }
  waitForRun(runId: string): Promise<Run> {
    return this.#call('GET', `/runs/${enc(runId)}/wait`);
  }
  history(idOrName: string, opts?: { limit?: number }): Promise<Run[]> {
    const q = opts?.limit !== undefined ? `?limit=${opts.limit}` : '';
    return this.#call('GET', `/jobs/${enc(idOrName)}/history${q}`);
  }
  why(idOrName: string): Promise<WhyReport> {
    return this.#call('GET', `/jobs/${enc(idOrName)}/why`);
  }
  health(): Promise<Health> {
    return this.#call('GET', '/health');
  }
  stats(): Promise<Stats> {
    return this.#call('GET', '/stats');
  }
  async metrics(): Promise<string> {
    const res = await this.#send('GET', '/metrics');
    const text = await readBody(res);
    if (res.statusCode !== 200) throw errorFromBody(res.statusCode ?? 0, text);
    return text;
  }
  backup(): Promise<BackupDocument> {
    return this.#call('GET', '/backup');
  }
  restore(doc: unknown): Promise<{ jobs: number; runs: number }> {
    return this.#call('POST', '/restore', doc);
  }

  /** The daemon's live events (NDJSON stream), opened on subscribe and closed on unsubscribe. */
  get events$(): Observable<SchedulerEvent> {
    const { Observable } = loadRxjs();
    return new Observable<SchedulerEvent>((sub) => {
      let res: IncomingMessage | undefined;
      let closed = false;
      this.#send('GET', '/events', undefined, { accept: 'application/x-ndjson' }).then((r) => {
        res = r;
        if (closed) return void r.destroy();
        if (r.statusCode !== 200) {
          readBody(r).then((t) => sub.error(errorFromBody(r.statusCode ?? 0, t)), (e) => sub.error(e));
          return;
        }
        let buf = '';
        r.setEncoding('utf8');
        r.on('data', (chunk: string) => {
          buf += chunk;
          let nl: number;
          while ((nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            if (line !== '') sub.next(JSON.parse(line) as SchedulerEvent);
          }
        });
        r.on('end', () => sub.complete());
        r.on('error', (e) => sub.error(e));
      }, (e: unknown) => sub.error(e));
      return () => {
        closed = true;
        res?.destroy();
      };
    });
  }

  /** The daemon owns its lifecycle: a client only lets go of its connections (it uses none between calls). */
  async shutdown(): Promise<void> {
    // Every request uses its own connection (no keep-alive agent); only an unused one is left.
    this.#connected?.destroy();
    this.#connected = null;
  }

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.#send(method, path, body);
    const text = await readBody(res);
    const status = res.statusCode ?? 0;
    if (status >= 400) throw errorFromBody(status, text);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  #send(method: string, path: string, body?: unknown, extra: Record<string, string> = {}): Promise<IncomingMessage> {
    return new Promise((resolveRes, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const kept = this.#connected;
      this.#connected = null;
      const open = kept !== null && !kept.destroyed ? kept : null;
      const req = httpRequest({
        socketPath: this.#socketPath,
        // A fresh connection per call (`agent: false`), or the one already open (no agent at all:
        // node uses `createConnection` only then); either way nothing lingers to keep a CLI alive.
        ...(open === null ? { agent: false } : { createConnection: () => open }),
        path: API_PREFIX + path,
        method,
        headers: payload
          ? { ...extra, 'content-type': 'application/json', 'content-length': payload.length }
          : extra,
      }, resolveRes);
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') {
          reject(new DaemonUnavailableError(`no daemon answers on ${this.#socketPath}`, { cause: err }));
        } else if (err.code === 'ECONNRESET') {
          reject(new DaemonUnavailableError(`the daemon closed the connection (${method} ${path})`, { cause: err }));
        } else {
          reject(err);
        }
      });
      req.end(payload);
    });
  }
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolveBody, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolveBody(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

/** Rebuilds the daemon's typed error from an error response (`{ "error": SerializedError }`). */
function errorFromBody(status: number, text: string): SchedulerError {
  try {
    const parsed = JSON.parse(text) as { error?: unknown };
    if (isSerializedError(parsed.error)) return deserializeError(parsed.error);
  } catch {
    // Not JSON: fall through to a generic error that keeps the status.
  }
  return new SchedulerError('INTERNAL', `daemon answered HTTP ${status}: ${text.slice(0, 200)}`);
}
