import type { CanonicalType } from '../types/canonical-type';
import { type Dialect } from '@vansales/protocol';

/**
 * Thrown by the per-dialect DDL mappers, which know neither table nor column; mapColumns
 * catches it and throws the public UNMAPPABLE_TYPE error naming both.
 */
export class TypeNotMappable extends Error {
  constructor(
    readonly type: CanonicalType,
    readonly target: Dialect,
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** What a dialect mapper needs to know about the column beyond its type. */
export interface MappingContext {
  table: string;
  column: string;
  /** Part of the primary key: text and binary must be index-safe. */
  key: boolean;
  /** How many columns the primary key has (the index length budget is shared). */
  keyCount: number;
  /** MySQL only: store a bounded text/binary as TEXT/BLOB because the row's VARCHARs would pass 64 KB. */
  forceLob?: boolean;
}

export interface MappedType {
  /** DDL type name in the target dialect. */
  ddl: string;
  /** The canonical type the target column holds. */
  type: CanonicalType;
}
