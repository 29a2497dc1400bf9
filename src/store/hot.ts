// A query that runs once per recipient, compiled once. Kysely compiles a
// builder on every call (walking its tree, freezing nodes): ≈ 5 % of a
// campaign's CPU in bench/campaign.ts for the dispatch checklist alone. The
// builder is compiled once with marker values in place of the arguments;
// later calls reuse its SQL and put each argument where its marker was.
// Constants written into the builder stay as they were compiled.
import type { Compilable, CompiledQuery, Kysely } from 'kysely';

/**
 * Marks the SQL of a hot query. On PostgreSQL the store runs such a text as a
 * named prepared statement (store/connect.ts), planned once per connection
 * instead of at every call; SQLite keeps every statement prepared anyway.
 */
export const HOT_SQL_MARK = '/* envoi:hot */ ';

type Value = string | number | null;

export function hotQuery<DB, A extends Value[], R>(db: Kysely<DB>, build: (...args: A) => Compilable<R>): (...args: A) => Promise<R[]> {
  let compiled: CompiledQuery<R> | undefined;
  let slots: number[] = [];
  return async (...args: A): Promise<R[]> => {
    if (!compiled) {
      const markers = args.map((_, i) => `\u0000hot-argument-${i}\u0000`);
      const c = build(...(markers as A)).compile();
      slots = c.parameters.map((p) => markers.indexOf(p as string));
      // every argument must have become a parameter, or its value would be ignored
      for (let i = 0; i < markers.length; i++) {
        if (!slots.includes(i)) throw new Error(`hotQuery: argument ${i} is not a query parameter`);
      }
      compiled = { ...c, sql: HOT_SQL_MARK + c.sql };
    }
    const parameters = compiled.parameters.map((p, i) => (slots[i] >= 0 ? args[slots[i]] : p));
    const res = await db.executeQuery<R>({ ...compiled, parameters });
    return res.rows;
  };
}
