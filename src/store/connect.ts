// Opens the one database envoi runs on: SQLite in the data folder by default,
// PostgreSQL when a URL is configured. Everything above this file sees only
// a Kysely<Database> and the dialect name.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import Cursor from 'pg-cursor';
import { CompiledQuery, Kysely, PostgresDialect, SqliteDialect, SqliteDriver, sql, type DatabaseConnection, type Driver, type TransactionSettings, type SqliteDialectConfig } from 'kysely';
import type { Database } from './schema.ts';
import { migrateToLatest } from './migrate.ts';
import { HOT_SQL_MARK } from './hot.ts';

export type DialectName = 'sqlite' | 'postgres';

export interface Store {
  db: Kysely<Database>;
  dialect: DialectName;
  /** the PostgreSQL schema in use, when one was configured */
  schema?: string;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** postgres://… ; absent means SQLite */
  url?: string;
  /** PostgreSQL schema to work in (created if missing); tests use one per run */
  schema?: string;
  /** SQLite file; ':memory:' is allowed */
  sqliteFile?: string;
  poolSize?: number;
}

const INT8_OID = 20;

export async function openStore(opts: StoreOptions): Promise<Store> {
  const store = opts.url ? await openPostgres(opts) : openSqlite(opts);
  await migrateToLatest(store);
  return store;
}

function openSqlite(opts: StoreOptions): Store {
  const file = opts.sqliteFile ?? ':memory:';
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const raw = new SqliteDatabase(file);
  // WAL: readers never block the writer; NORMAL is durable across process
  // crashes in WAL mode (only an OS crash can lose the last transactions).
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  raw.pragma('foreign_keys = ON');
  raw.pragma('busy_timeout = 5000');
  // 32 MiB of page cache instead of 2: the dispatch checklist reads a
  // contact, its subscription and consent at random for every recipient
  raw.pragma('cache_size = -32768');
  const db = new Kysely<Database>({ dialect: new KeepingSqliteDialect({ database: cachingStatements(raw) }, raw) });
  // from here on a busy database is waited for by the driver, without blocking the process (see untilFree)
  raw.pragma('busy_timeout = 0');
  return { db, dialect: 'sqlite', close: () => db.destroy() };
}

const STATEMENT_CACHE = 500;

/**
 * Kysely's SQLite driver prepares every query anew; preparing was ≈ 6 % of a
 * campaign's CPU (bench/campaign.ts profile), for statements that repeat
 * with every recipient. Prepared statements are kept by SQL text (bounded:
 * IN lists of every length make new texts), and a statement still being
 * iterated (a stream) is never handed out twice. SQLite re-prepares a kept
 * statement by itself after a schema change.
 */
function cachingStatements(raw: SqliteDatabase.Database): SqliteDialectConfig['database'] {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => raw.close(),
    prepare(text: string) {
      const hit = cache.get(text);
      if (hit && !hit.busy) return hit;
      const stmt = raw.prepare(text);
      if (!hit) {
        if (cache.size >= STATEMENT_CACHE) cache.delete(cache.keys().next().value!);
        cache.set(text, stmt);
      }
      return stmt;
    },
  } as SqliteDialectConfig['database'];
}

// When a write fails with SQLITE_FULL (or IOERR), SQLite has already rolled
// the transaction back; Kysely's ROLLBACK then failed with "no transaction
// is active" and that error replaced the real one, so a full disk showed as
// a 500 instead of a 507 (test/hardening/disk-full.test.ts). Roll back only
// what is still open.
class KeepingSqliteDriver extends SqliteDriver {
  private readonly patient = new WeakMap<DatabaseConnection, DatabaseConnection>();
  constructor(config: SqliteDialectConfig, private readonly raw: SqliteDatabase.Database) {
    super(config);
  }
  override async acquireConnection(): Promise<DatabaseConnection> {
    const conn = await super.acquireConnection();
    let p = this.patient.get(conn);
    if (!p) {
      const raw = this.raw;
      p = {
        executeQuery: (q) => untilFree(raw, () => conn.executeQuery(q)),
        streamQuery: (q, chunkSize) => conn.streamQuery(q, chunkSize),
      };
      this.patient.set(conn, p);
    }
    return p;
  }
  // A deferred BEGIN starts as a reader; its first write then needs the
  // write lock, and if another process (the API beside a worker) committed
  // since the read began, SQLite refuses at once with SQLITE_BUSY_SNAPSHOT,
  // whatever busy_timeout says: 500s and failed rollup passes under load
  // (bench/campaign.ts --api-clients). Taking the write lock at BEGIN waits
  // for it instead (busy_timeout), and every transaction here writes.
  // A read-only transaction (a consistent read of several tables) stays
  // deferred: it takes no write lock and reads one snapshot.
  override async beginTransaction(connection: DatabaseConnection, settings?: TransactionSettings): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(settings?.accessMode === 'read only' ? 'begin' : 'begin immediate'));
  }
  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    if (this.raw.inTransaction) await super.rollbackTransaction(connection);
  }
}

/** how long a statement waits for another process's write lock before failing with SQLITE_BUSY */
const BUSY_WAIT_MS = 5_000;

/**
 * Waits for the write lock of a database another process is writing to, the
 * way busy_timeout does, but between timers instead of in a sleep inside the
 * call: better-sqlite3 is synchronous, so busy_timeout froze the whole
 * process (its SMTP sessions, its DNS lookups: c-ares timed out answers that
 * sat unread) for as long as the other process held the lock — two delivery
 * workers on one SQLite file, or the API beside one. Only a statement outside
 * a transaction, or the BEGIN of one, is tried again: it failed as a whole.
 */
async function untilFree<T>(raw: SqliteDatabase.Database, run: () => Promise<T>): Promise<T> {
  let deadline = 0; // set at the first refusal: every query passes here, few wait
  for (let delay = 1; ; delay = Math.min(delay * 2, 32)) {
    try {
      return await run();
    } catch (err) {
      const code = (err as { code?: string }).code;
      if ((code !== 'SQLITE_BUSY' && code !== 'SQLITE_BUSY_RECOVERY') || raw.inTransaction) throw err;
      deadline ||= performance.now() + BUSY_WAIT_MS;
      if (performance.now() >= deadline) throw err;
    }
    await new Promise((r) => setTimeout(r, delay));
  }
}

class KeepingSqliteDialect extends SqliteDialect {
  constructor(private readonly cfg: SqliteDialectConfig, private readonly raw: SqliteDatabase.Database) {
    super(cfg);
  }
  override createDriver(): Driver {
    return new KeepingSqliteDriver(this.cfg, this.raw);
  }
}

async function openPostgres(opts: StoreOptions): Promise<Store> {
  const schema = opts.schema;
  if (schema && !/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid PostgreSQL schema name: ${schema}`);
  if (schema) {
    const admin = new pg.Client({ connectionString: opts.url });
    await admin.connect();
    try {
      await admin.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    } finally {
      await admin.end();
    }
  }
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.poolSize ?? 10,
    // a database that does not answer (a cut network, not a refusal) fails a request after this, instead of holding it for ever
    connectionTimeoutMillis: 10_000,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
    // BIGINT (our epoch-ms times, count(*)) as number, not string: the values
    // stay far below 2^53.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  });
  // An idle client that loses its server emits 'error' on the pool; without a
  // listener Node would crash the process.
  pool.on('error', () => {});
  // A client checked out of the pool (a transaction, a cursor walk) has no
  // listener of the pool's: a server that goes away between two of its
  // queries made it emit 'error' unheard, and that crashed the process
  // (test/hardening/storage-outage.test.ts). Its next query fails instead, as
  // "not queryable", which the callers and the HTTP/SMTP edges handle.
  pool.on('connect', (client) => {
    client.on('error', () => {});
    preparingHotQueries(client);
  });
  // the cursor lets long walks (a campaign's audience) stream in one query instead of one query per batch
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool, cursor: Cursor }) });
  await sql`select 1`.execute(db);
  return { db, dialect: 'postgres', schema, close: () => db.destroy() };
}

/**
 * A query marked hot (store/hot.ts: one per recipient at dispatch) runs as a
 * named prepared statement: parsed and planned once per connection, where
 * Kysely's driver sends every query unnamed, planned anew each time. Only
 * marked texts get a name, so the server keeps a bounded set of statements.
 */
function preparingHotQueries(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  const names = new Map<string, string>();
  (client as { query: unknown }).query = (text: unknown, ...rest: unknown[]) => {
    if (typeof text !== 'string' || !text.startsWith(HOT_SQL_MARK) || !Array.isArray(rest[0])) return query(text, ...rest);
    let name = names.get(text);
    if (!name) names.set(text, (name = 'envoi_hot_' + crypto.createHash('sha256').update(text).digest('hex').slice(0, 24)));
    return query({ name, text, values: rest[0] }, ...rest.slice(1));
  };
}

/** True when an error is a unique-constraint violation on either dialect. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE';
}
