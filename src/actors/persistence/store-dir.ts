/**
 * The store's folder inside a data directory. Its own file, without lmdb: the CLI checks and names
 * the store's files (store-check, doctor, hot backups) on paths where loading lmdb's native module
 * would cost a command 100–170 ms of start-up for nothing (a `list` answered by the daemon).
 */
export const STORE_DIR = 'store';
