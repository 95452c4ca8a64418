/**
 * The dashboard's files (static/dashboard in the package: plain ES modules and a vendored Preact+htm,
 * no build step), read once at start-up into memory and served by exact path — nothing a request
 * names can reach another file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join, relative, resolve, sep } from 'node:path';
import type { FastifyInstance } from 'fastify';

/** dist/src/http → the package root. */
export const DASHBOARD_DIR = resolve(__dirname, '../../../static/dashboard');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/**
 * What the page may load: its own files only (no inline script, no other origin), and the API on
 * the same origin; no framing.
 */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The dashboard's assets, by URL path. */
export class StaticFiles {
  readonly #files = new Map<string, { body: Buffer; type: string }>();

  /** Reads every file under `dir` (default: the package's static/dashboard). */
  constructor(dir: string = DASHBOARD_DIR) {
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (TYPES[extname(e.name)] !== undefined) {
          this.#files.set('/' + relative(dir, p).split(sep).join('/'), { body: readFileSync(p), type: TYPES[extname(e.name)]! });
        }
      }
    };
    walk(dir);
  }

  /** Registers `GET /` (index.html) and `GET /static/<file>`. */
  register(app: FastifyInstance): void {
    const serve = (path: string) => (_req: unknown, reply: import('fastify').FastifyReply) => {
      const f = this.#files.get(path)!;
      void reply.header('content-security-policy', CSP);
      // The page is small and changes with the package: revalidate rather than cache for long.
      void reply.header('cache-control', 'no-cache');
      return reply.type(f.type).send(f.body);
    };
    for (const path of this.#files.keys()) {
      const url = path === '/index.html' ? '/' : `/static${path}`;
      app.get(url, { config: { access: 'public' } }, serve(path));
    }
  }
}
