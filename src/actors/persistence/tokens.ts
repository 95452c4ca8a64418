/**
 * API tokens for the HTTP API on TCP, in the data directory's LMDB environment (db `tokens`, beside
 * the tables of src/actors/persistence/tables.ts). Only a token's sha256 is stored: a token is 32
 * random bytes, so a fast hash is enough (nothing to brute-force, unlike a password) and a copy of
 * the store gives no usable credential. The token itself is shown once, by `create`.
 *
 * The CLI (`rae-sched token ...`) and the daemon open the same environment (LMDB is safe across
 * processes); every lookup renews its read snapshot, so a revoke takes effect on the next request.
 * Tokens are not part of backups: a backup file must not carry credentials.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { open, type Database, type RootDatabase } from 'lmdb';
import { ConflictError, NotFoundError, PersistenceError, ValidationError } from '../../errors';
import { envOptions, storePath } from './tables';
import { SessionTable } from './sessions';

/** A stored token, without its secret. */
export interface ApiToken {
  /** Short public id (`tok_…`), shown by `token list`. */
  id: string;
  name: string;
  /** Read-only tokens can read but not add, run, pause, resume, remove or restore. */
  readOnly: boolean;
  createdAt: string;
}

interface StoredToken extends ApiToken {
  /** Hex sha256 of the token text. */
  hash: string;
}

const PREFIX = 'rae_';
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The token table. Open with {@link TokenStore.open}, close when done. */
export class TokenStore {
  readonly #env: RootDatabase;
  /** Key: token id. */
  readonly #db: Database<StoredToken, string>;
  /** The dashboard's sessions, in the same environment (src/actors/persistence/sessions.ts). */
  readonly sessions: SessionTable;

  private constructor(env: RootDatabase, db: Database<StoredToken, string>, now?: () => number) {
    this.#env = env;
    this.#db = db;
    this.sessions = new SessionTable(env, now);
  }

  /**
   * Opens (creating if needed) the token and session tables of a data directory.
   * @param now the clock of session expiry (tests).
   */
  static open(dataDir: string, now?: () => number): TokenStore {
    try {
      const env = open(storePath(dataDir), envOptions(false));
      return new TokenStore(env, env.openDB<StoredToken, string>('tokens', {}), now);
    } catch (err) {
      throw new PersistenceError(`cannot open the token table in ${storePath(dataDir)}: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * Creates a token and returns it with its secret — the only time the secret is seen.
   * @throws ValidationError for a bad name; ConflictError when the name is taken.
   */
  async create(name: string, opts: { readOnly?: boolean; now?: Date } = {}): Promise<ApiToken & { token: string }> {
    if (!NAME.test(name)) {
      throw new ValidationError(`NAME: '${name}' must be 1-64 letters, digits, '.', '_' or '-'`, 'NAME');
    }
    const secret = PREFIX + randomBytes(32).toString('base64url');
    const record: StoredToken = {
      id: `tok_${randomBytes(6).toString('hex')}`,
      name,
      readOnly: opts.readOnly ?? false,
      createdAt: (opts.now ?? new Date()).toISOString(),
      hash: sha256(secret),
    };
    const ok = await this.#env.childTransaction(() => {
      if (this.#all().some((t) => t.name === name)) return false;
      void this.#db.put(record.id, record);
      return true;
    });
    if (!ok) throw new ConflictError(`a token named '${name}' already exists (revoke it first)`);
    await this.#env.flushed;
    const { hash: _hash, ...pub } = record;
    return { ...pub, token: secret };
  }

  /** Every token, oldest first, without secrets. */
  list(): ApiToken[] {
    this.#env.resetReadTxn();
    return this.#all()
      .map(({ hash: _hash, ...pub }) => pub)
      .sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
  }

  /**
   * Deletes a token by name or id.
   * @throws NotFoundError when there is none.
   */
  async revoke(nameOrId: string): Promise<ApiToken> {
    const found = await this.#env.childTransaction(() => {
      const t = this.#all().find((x) => x.id === nameOrId || x.name === nameOrId);
      if (t !== undefined) void this.#db.remove(t.id);
      return t;
    });
    if (found === undefined) throw new NotFoundError(`no token '${nameOrId}'`);
    await this.#env.flushed;
    const { hash: _hash, ...pub } = found;
    return pub;
  }

  /** The token whose secret is `secret`, or null (compared in constant time on the hashes). */
  verify(secret: string): ApiToken | null {
    if (!secret.startsWith(PREFIX) || secret.length > 200) return null;
    const want = Buffer.from(sha256(secret), 'hex');
    this.#env.resetReadTxn();
    for (const t of this.#all()) {
      if (timingSafeEqual(Buffer.from(t.hash, 'hex'), want)) {
        const { hash: _hash, ...pub } = t;
        return pub;
      }
    }
    return null;
  }

  /** Closes this handle on the environment. */
  async close(): Promise<void> {
    await this.#env.close();
  }

  #all(): StoredToken[] {
    return [...this.#db.getRange({}).map(({ value }) => value)];
  }
}
