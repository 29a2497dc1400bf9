// The column types that differ between the two dialects, in one place.
import { sql, type ColumnDataType, type Expression } from 'kysely';
import type { DialectName } from './connect.ts';

type ColType = ColumnDataType | Expression<unknown>;

/** epoch milliseconds and counters that can pass 2^31 */
export const bigint = (d: DialectName): ColType => (d === 'postgres' ? 'bigint' : 'integer');
/** raw message bytes */
export const blob = (d: DialectName): ColType => (d === 'postgres' ? 'bytea' : 'blob');
/** an auto-incrementing integer key (the event log's order) */
export const serialId = (d: DialectName): ColType => (d === 'postgres' ? sql`bigserial` : 'integer');
