import type { CanonicalType } from '../types/canonical-type';
import { otherTypeNameProblem, showName } from './type-names';
import { type MappedType, type MappingContext, TypeNotMappable } from './unmappable';

/** One pg_type row, as catalog.ts loads them (the column's type and everything it refers to). */
export interface PgTypeInfo {
  oid: number;
  name: string;
  schema: string;
  /** b base, d domain, e enum, c composite, r range, m multirange, p pseudo */
  typtype: string;
  baseType: number;
  baseTypmod: number;
  element: number;
  category: string;
  /** format_type(oid, NULL): how DDL spells the type. */
  formatted: string;
  labels: string[] | null;
}

/** Built-in types whose text form is lossless but that have no canonical family. */
const TEXT_FORM_TYPES = new Set([
  'inet',
  'cidr',
  'macaddr',
  'macaddr8',
  'xml',
  'tsvector',
  'tsquery',
  'point',
  'line',
  'lseg',
  'box',
  'path',
  'polygon',
  'circle',
  'pg_lsn',
  'txid_snapshot',
  'pg_snapshot',
  'regclass',
  'regproc',
  'regtype',
  'aclitem',
]);

/**
 * Canonical type of a PostgreSQL type (oid + typmod, e.g. a column's atttypid/atttypmod or a
 * result field's dataTypeID/dataTypeModifier). Domains resolve to their base type (Pagila's
 * `year` is an integer), enum types keep their labels and name, arrays their element type.
 */
export function pgCanonicalType(oid: number, typmod: number, types: ReadonlyMap<number, PgTypeInfo>): CanonicalType {
  const t = types.get(oid);
  if (!t) return { kind: 'unsupported', dialect: 'postgres', name: `oid ${oid}` };
  if (t.typtype === 'd') return pgCanonicalType(t.baseType, t.baseTypmod >= 0 ? t.baseTypmod : typmod, types);
  if (t.typtype === 'e') return { kind: 'enum', values: t.labels ?? [], name: t.name };
  if (t.category === 'A' && t.element !== 0) {
    const element = pgCanonicalType(t.element, typmod, types);
    if (element.kind === 'unsupported') return { kind: 'unsupported', dialect: 'postgres', name: t.formatted };
    return { kind: 'array', element };
  }
  if (t.typtype === 'r' || t.typtype === 'm') return { kind: 'other', dialect: 'postgres', name: t.formatted };
  if (t.typtype !== 'b' && !(t.typtype === 'p' && t.name === 'unknown'))
    return { kind: 'unsupported', dialect: 'postgres', name: t.formatted };
  // Extension types live outside pg_catalog; only citext is known to be plain text.
  if (t.schema !== 'pg_catalog')
    return t.name === 'citext' ? { kind: 'text' } : { kind: 'unsupported', dialect: 'postgres', name: t.formatted };
  const mod = typmod >= 0 ? typmod : undefined;
  switch (t.name) {
    case 'int2':
      return { kind: 'integer', bits: 16 };
    case 'int4':
      return { kind: 'integer', bits: 32 };
    case 'int8':
      return { kind: 'integer', bits: 64 };
    case 'oid':
    case 'xid':
    case 'cid':
      return { kind: 'integer', bits: 32, unsigned: true };
    case 'numeric': {
      if (mod === undefined) return { kind: 'decimal' };
      const m = mod - 4;
      // PostgreSQL 15 allows negative scales: an 11-bit signed field.
      return { kind: 'decimal', precision: (m >> 16) & 0xffff, scale: ((m & 0x7ff) ^ 1024) - 1024 };
    }
    // money's text form follows lc_monetary ('$1,234.50'); it is read as numeric instead.
    case 'money':
      return { kind: 'decimal' };
    case 'float4':
      return { kind: 'float', bits: 32 };
    case 'float8':
      return { kind: 'float', bits: 64 };
    case 'bool':
      return { kind: 'boolean' };
    case 'text':
    case 'unknown':
      return { kind: 'text' };
    case 'varchar':
      return mod === undefined ? { kind: 'text' } : { kind: 'text', maxLength: mod - 4 };
    case 'bpchar':
      return mod === undefined ? { kind: 'text', fixed: true } : { kind: 'text', maxLength: mod - 4, fixed: true };
    case 'name':
      return { kind: 'text', maxLength: 63 };
    case 'char':
      return { kind: 'text', maxLength: 1, fixed: true };
    case 'bytea':
      return { kind: 'binary' };
    case 'date':
      return { kind: 'date' };
    case 'time':
      return mod === undefined ? { kind: 'time' } : { kind: 'time', precision: mod };
    case 'timetz':
      return mod === undefined
        ? { kind: 'time', withTimeZone: true }
        : { kind: 'time', precision: mod, withTimeZone: true };
    case 'timestamp':
      return mod === undefined
        ? { kind: 'timestamp', withTimeZone: false }
        : { kind: 'timestamp', precision: mod, withTimeZone: false };
    case 'timestamptz':
      return mod === undefined
        ? { kind: 'timestamp', withTimeZone: true }
        : { kind: 'timestamp', precision: mod, withTimeZone: true };
    case 'interval':
      return { kind: 'interval' };
    case 'json':
      return { kind: 'json', binary: false };
    case 'jsonb':
      return { kind: 'json', binary: true };
    case 'uuid':
      return { kind: 'uuid' };
    case 'bit':
      return { kind: 'bit', length: mod ?? 1 };
    case 'varbit':
      return mod === undefined ? { kind: 'bit', varying: true } : { kind: 'bit', length: mod, varying: true };
    default:
      return TEXT_FORM_TYPES.has(t.name)
        ? { kind: 'other', dialect: 'postgres', name: t.formatted }
        : { kind: 'unsupported', dialect: 'postgres', name: t.formatted };
  }
}

const NETWORK_FROM_MYSQL: Record<string, string> = { inet4: 'inet', inet6: 'inet' };
/** PostgreSQL limits varchar(n) to this; longer bounds become text. */
const PG_MAX_VARCHAR = 10_485_760;

/** Default name of the enum type made for a MySQL inline ENUM column. */
export function pgEnumTypeName(table: string, column: string): string {
  const name = `${table}_${column}`;
  // Identifiers longer than 63 bytes would be truncated by the server (and could collide).
  return Buffer.byteLength(name) <= 63
    ? name
    : Buffer.from(name)
        .subarray(0, 63)
        .toString('utf8')
        .replace(/\uFFFD+$/, '');
}

/** PostgreSQL DDL for a canonical type (see README for the table). */
export function pgDdlType(type: CanonicalType, ctx: MappingContext): MappedType {
  switch (type.kind) {
    case 'integer':
      switch (type.bits) {
        case 8:
          return { ddl: 'smallint', type: { kind: 'integer', bits: 16 } };
        case 16:
          return type.unsigned
            ? { ddl: 'integer', type: { kind: 'integer', bits: 32 } }
            : { ddl: 'smallint', type: { kind: 'integer', bits: 16 } };
        case 24:
          return { ddl: 'integer', type: { kind: 'integer', bits: 32 } };
        case 32:
          return type.unsigned
            ? { ddl: 'bigint', type: { kind: 'integer', bits: 64 } }
            : { ddl: 'integer', type: { kind: 'integer', bits: 32 } };
        case 64:
          // No unsigned 64-bit type: numeric(20,0) holds 18446744073709551615.
          return type.unsigned
            ? { ddl: 'numeric(20,0)', type: { kind: 'decimal', precision: 20, scale: 0 } }
            : { ddl: 'bigint', type: { kind: 'integer', bits: 64 } };
      }
      break;
    case 'decimal': {
      if (type.precision === undefined) return { ddl: 'numeric', type: { kind: 'decimal' } };
      if (type.precision > 1000)
        throw new TypeNotMappable(type, 'postgres', `numeric precision ${type.precision} is over 1000`);
      const scale = type.scale ?? 0;
      return {
        ddl: `numeric(${type.precision},${scale})`,
        type: { kind: 'decimal', precision: type.precision, scale },
      };
    }
    case 'float':
      return type.bits === 32 ? { ddl: 'real', type } : { ddl: 'double precision', type: { kind: 'float', bits: 64 } };
    case 'boolean':
      return { ddl: 'boolean', type };
    case 'text': {
      const n = type.maxLength;
      if (n !== undefined && n <= PG_MAX_VARCHAR) {
        return type.fixed
          ? { ddl: `character(${n})`, type: { kind: 'text', maxLength: n, fixed: true } }
          : { ddl: `character varying(${n})`, type: { kind: 'text', maxLength: n } };
      }
      return { ddl: 'text', type: { kind: 'text' } };
    }
    case 'binary':
      return { ddl: 'bytea', type: { kind: 'binary' } };
    case 'date':
      return { ddl: 'date', type };
    case 'time': {
      const p = type.precision === undefined ? undefined : Math.min(type.precision, 6);
      const tz = type.withTimeZone ? 'with' : 'without';
      return {
        ddl: p === undefined ? `time ${tz} time zone` : `time(${p}) ${tz} time zone`,
        type: {
          kind: 'time',
          ...(p === undefined ? {} : { precision: p }),
          ...(type.withTimeZone ? { withTimeZone: true } : {}),
        },
      };
    }
    case 'timestamp': {
      const p = type.precision === undefined ? undefined : Math.min(type.precision, 6);
      const tz = type.withTimeZone ? 'with' : 'without';
      return {
        ddl: p === undefined ? `timestamp ${tz} time zone` : `timestamp(${p}) ${tz} time zone`,
        type: { kind: 'timestamp', ...(p === undefined ? {} : { precision: p }), withTimeZone: type.withTimeZone },
      };
    }
    case 'interval':
      return { ddl: 'interval', type };
    case 'json':
      // MySQL's JSON is stored normalised; jsonb is the like-for-like choice. Only PostgreSQL json stays json.
      return type.binary === false
        ? { ddl: 'json', type: { kind: 'json', binary: false } }
        : { ddl: 'jsonb', type: { kind: 'json', binary: true } };
    case 'enum':
      // A real enum type (not text + CHECK): it sorts by declaration order, as MySQL's ENUM does,
      // so keyset order and checksums agree across the two. A PostgreSQL source's type keeps its
      // name; otherwise the name comes from the table, so it is not fixed in the mapped type
      // (createTable derives it again from the table it creates).
      return { ddl: type.name ?? pgEnumTypeName(ctx.table, ctx.column), type };
    case 'set':
      // text[] with a CHECK that every member is allowed; the set kind is kept so createTable adds it.
      return { ddl: 'text[]', type };
    case 'uuid':
      return { ddl: 'uuid', type };
    case 'array': {
      const element = type.element;
      if (element.kind === 'array' || element.kind === 'set')
        throw new TypeNotMappable(type, 'postgres', 'arrays of arrays are not a PostgreSQL type');
      const inner = pgDdlType(element, { ...ctx, key: false });
      return { ddl: `${inner.ddl}[]`, type: { kind: 'array', element: inner.type } };
    }
    case 'year':
      return { ddl: 'smallint', type: { kind: 'integer', bits: 16 } };
    case 'bit':
      if (type.varying)
        return type.length === undefined ? { ddl: 'bit varying', type } : { ddl: `bit varying(${type.length})`, type };
      return { ddl: `bit(${type.length ?? 1})`, type: { kind: 'bit', length: type.length ?? 1 } };
    case 'other': {
      if (type.dialect === 'postgres') {
        // The name becomes DDL text (it cannot be quoted: it may carry a schema and a typmod).
        const problem = otherTypeNameProblem('postgres', type.name);
        if (problem) throw new TypeNotMappable(type, 'postgres', `type name ${showName(type.name)} ${problem}`);
        return { ddl: type.name, type };
      }
      const network = NETWORK_FROM_MYSQL[type.name.toLowerCase()];
      if (network) return { ddl: network, type: { kind: 'other', dialect: 'postgres', name: network } };
      return { ddl: 'text', type: { kind: 'text' } };
    }
    case 'unsupported':
      throw new TypeNotMappable(type, 'postgres', `${type.dialect} type ${type.name} has no PostgreSQL equivalent`);
  }
  throw new TypeNotMappable(type, 'postgres', `no PostgreSQL type for ${JSON.stringify(type)}`);
}
