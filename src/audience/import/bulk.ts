// Bulk inserts, one form per dialect.
// SQLite: multi-row INSERTs compiled once per row count, then re-run with new
// values. Building and compiling a 2,000-row statement in Kysely costs about
// as much as SQLite takes to run it (measured: ~7 s of a million-row
// import); the statement text is the same every batch, only the values
// change. The SQL is still Kysely's, from a typed builder.
// PostgreSQL: unnestRows, below.
import { sql, type Compilable, type CompiledQuery, type Kysely, type QueryResult } from 'kysely';
import type { Database } from '../../store/schema.ts';

type Db = Kysely<Database>;

/** `build` makes the typed statement for some rows; `columns` is the order of the values it binds. */
export function preparedInsert<R extends object, O = unknown>(columns: readonly (keyof R & string)[], build: (db: Db, rows: R[]) => Compilable<O>) {
  type Template = { compiled: CompiledQuery<O>; tail: readonly unknown[] };
  // per database (its adapter: a transaction shares its database's), since SQL text differs by dialect
  const byDb = new WeakMap<object, Map<number, Template>>();
  return async (db: Db, rows: R[]): Promise<QueryResult<O>> => {
    const key = db.getExecutor().adapter;
    let templates = byDb.get(key);
    if (!templates) byDb.set(key, (templates = new Map()));
    const t = templates.get(rows.length);
    if (t) {
      const parameters = new Array<unknown>(rows.length * columns.length);
      let i = 0;
      for (const r of rows) for (const c of columns) parameters[i++] = r[c];
      for (const v of t.tail) parameters.push(v);
      return db.executeQuery<O>({ ...t.compiled, parameters });
    }
    const ordered = rows.map((r) => Object.fromEntries(columns.map((c) => [c, r[c]])) as R);
    const compiled = build(db, ordered).compile();
    const n = rows.length * columns.length;
    // the template is reused only if it binds the rows' values row by row, column by column, then its own constants
    let i = 0;
    for (const r of ordered) for (const c of columns) if (compiled.parameters[i++] !== r[c]) throw new Error(`preparedInsert: ${c} is not bound where expected`);
    if (templates.size > 16) templates.clear();
    templates.set(rows.length, { compiled, tail: compiled.parameters.slice(n) });
    return db.executeQuery<O>(compiled);
  };
}

/**
 * PostgreSQL: rows as `select * from unnest($1::text[], $2::int8[], …)`, one
 * array per column. `pgTypes` names each column that is not text. Column
 * names and types are constants of the caller; the values are bound.
 */
export function unnestRows<R extends object>(columns: readonly (keyof R & string)[], pgTypes: Partial<Record<string, 'int4' | 'int8'>>, rows: R[]) {
  const arrays = columns.map((c) => sql`${rows.map((r) => r[c])}::${sql.raw(pgTypes[c] ?? 'text')}[]`);
  return sql`(select * from unnest(${sql.join(arrays)}))`;
}
