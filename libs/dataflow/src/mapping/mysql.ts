import type { CanonicalType } from '../types/canonical-type';
import { quoteLiteral } from '../identifiers';
import { mysqlCharsetNameProblem, otherTypeNameProblem, showName } from './type-names';
import { type MappedType, type MappingContext, TypeNotMappable } from './unmappable';

/** One row of information_schema.COLUMNS (names lower-cased by the query). */
export interface MysqlColumnRow {
  dataType: string;
  columnType: string;
  charLength: number | null;
  numericPrecision: number | null;
  numericScale: number | null;
  datetimePrecision: number | null;
  charset: string | null;
  collation: string | null;
}

export interface MysqlTypeOptions {
  tinyint1: 'boolean' | 'integer';
  /** MariaDB's JSON is LONGTEXT with a json_valid() CHECK. */
  json: boolean;
}

const SPATIAL = new Set([
  'geometry',
  'point',
  'linestring',
  'polygon',
  'multipoint',
  'multilinestring',
  'multipolygon',
  'geometrycollection',
  'geomcollection',
]);

/** Values of enum('a','it''s') / set(...) as COLUMN_TYPE prints them. */
export function parseMysqlEnumValues(columnType: string): string[] {
  const open = columnType.indexOf('(');
  const values: string[] = [];
  let i = open + 1;
  while (i < columnType.length && columnType[i] === "'") {
    let s = '';
    i++;
    for (;;) {
      const c = columnType[i];
      if (c === undefined) return values;
      if (c === "'" && columnType[i + 1] === "'") {
        s += "'";
        i += 2;
      } else if (c === '\\' && i + 1 < columnType.length) {
        s += columnType[i + 1];
        i += 2;
      } else if (c === "'") {
        i++;
        break;
      } else {
        s += c;
        i++;
      }
    }
    values.push(s);
    if (columnType[i] === ',') i++;
  }
  return values;
}

/** Canonical type of a MySQL/MariaDB column from information_schema.COLUMNS. */
export function mysqlCanonicalType(row: MysqlColumnRow, options: MysqlTypeOptions): CanonicalType {
  const data = row.dataType.toLowerCase();
  const ct = row.columnType.toLowerCase();
  const unsigned = /\bunsigned\b/.test(ct);
  const u = unsigned ? { unsigned: true } : {};
  const text = (extra: { maxLength?: number; fixed?: boolean }): CanonicalType => ({
    kind: 'text',
    ...extra,
    ...(row.charset ? { charset: row.charset } : {}),
    ...(row.collation ? { collation: row.collation } : {}),
  });
  const precision = row.datetimePrecision ?? 0;
  switch (data) {
    case 'tinyint':
      // BOOLEAN is tinyint(1); see DataConnectionConfig.mysqlTinyint1.
      if (!unsigned && /^tinyint\(1\)/.test(ct) && options.tinyint1 === 'boolean') return { kind: 'boolean' };
      return { kind: 'integer', bits: 8, ...u };
    case 'bool':
    case 'boolean':
      return { kind: 'boolean' };
    case 'smallint':
      return { kind: 'integer', bits: 16, ...u };
    case 'mediumint':
      return { kind: 'integer', bits: 24, ...u };
    case 'int':
    case 'integer':
      return { kind: 'integer', bits: 32, ...u };
    case 'bigint':
      return { kind: 'integer', bits: 64, ...u };
    case 'decimal':
    case 'numeric':
    case 'dec':
    case 'fixed':
      return { kind: 'decimal', precision: row.numericPrecision ?? 10, scale: row.numericScale ?? 0 };
    case 'float':
      return { kind: 'float', bits: 32 };
    case 'double':
    case 'real':
    case 'double precision':
      return { kind: 'float', bits: 64 };
    case 'bit':
      return { kind: 'bit', length: Number(/\((\d+)\)/.exec(ct)?.[1] ?? 1) };
    case 'char':
      return text({ maxLength: row.charLength ?? 1, fixed: true });
    case 'varchar':
      return text({ maxLength: row.charLength ?? 255 });
    case 'tinytext':
    case 'text':
    case 'mediumtext':
    case 'longtext':
      return options.json ? { kind: 'json' } : text({});
    case 'binary':
      return { kind: 'binary', maxLength: row.charLength ?? 1, fixed: true };
    case 'varbinary':
      return { kind: 'binary', maxLength: row.charLength ?? 255 };
    case 'tinyblob':
    case 'blob':
    case 'mediumblob':
    case 'longblob':
      return { kind: 'binary' };
    case 'date':
      return { kind: 'date' };
    case 'time':
      return { kind: 'time', precision };
    case 'datetime':
      return { kind: 'timestamp', precision, withTimeZone: false };
    // Stored in UTC and shown in the session time zone (pinned to UTC here): an instant.
    case 'timestamp':
      return { kind: 'timestamp', precision, withTimeZone: true };
    case 'year':
      return { kind: 'year' };
    case 'json':
      return { kind: 'json' };
    case 'enum':
      return { kind: 'enum', values: parseMysqlEnumValues(row.columnType) };
    case 'set':
      return { kind: 'set', values: parseMysqlEnumValues(row.columnType) };
    case 'uuid':
      return { kind: 'uuid' };
    case 'inet4':
    case 'inet6':
      return { kind: 'other', dialect: 'mysql', name: data };
    default:
      return { kind: 'unsupported', dialect: 'mysql', name: SPATIAL.has(data) ? data : row.columnType };
  }
}

/** mysql2 field metadata of a result set (describeQuery). */
export interface MysqlField {
  columnType?: number;
  columnLength?: number;
  decimals: number;
  flags: number | string[];
  characterSet?: number;
  extendedTypeName?: string;
  extendedFormat?: string;
}

const FLAG_UNSIGNED = 32;
const FLAG_ENUM = 256;
const FLAG_SET = 2048;
const BINARY_CHARSET = 63;

export function mysqlFieldCanonicalType(field: MysqlField, options: Pick<MysqlTypeOptions, 'tinyint1'>): CanonicalType {
  const flags = typeof field.flags === 'number' ? field.flags : 0;
  const unsigned = (flags & FLAG_UNSIGNED) !== 0 ? { unsigned: true } : {};
  const length = field.columnLength ?? 0;
  const binary = field.characterSet === BINARY_CHARSET;
  const ext = field.extendedTypeName?.toLowerCase();
  if (field.extendedFormat === 'json') return { kind: 'json' };
  if (ext === 'uuid') return { kind: 'uuid' };
  if (ext === 'inet4' || ext === 'inet6') return { kind: 'other', dialect: 'mysql', name: ext };
  if (ext && SPATIAL.has(ext)) return { kind: 'unsupported', dialect: 'mysql', name: ext };
  const precision = Math.min(field.decimals, 6);
  switch (field.columnType) {
    case 1:
      return length === 1 && !unsigned.unsigned && options.tinyint1 === 'boolean'
        ? { kind: 'boolean' }
        : { kind: 'integer', bits: 8, ...unsigned };
    case 2:
      return { kind: 'integer', bits: 16, ...unsigned };
    case 9:
      return { kind: 'integer', bits: 24, ...unsigned };
    case 3:
      return { kind: 'integer', bits: 32, ...unsigned };
    case 8:
      return { kind: 'integer', bits: 64, ...unsigned };
    case 0:
    case 246: {
      // columnLength counts digits plus the sign and the point.
      const scale = field.decimals;
      const digits = length - (scale > 0 ? 1 : 0) - (unsigned.unsigned ? 0 : 1);
      return { kind: 'decimal', precision: Math.max(1, digits), scale };
    }
    case 4:
      return { kind: 'float', bits: 32 };
    case 5:
      return { kind: 'float', bits: 64 };
    case 16:
      return { kind: 'bit', length: Math.max(1, length) };
    case 10:
    case 14:
      return { kind: 'date' };
    case 11:
      return { kind: 'time', precision };
    case 12:
      return { kind: 'timestamp', precision, withTimeZone: false };
    case 7:
      return { kind: 'timestamp', precision, withTimeZone: true };
    case 13:
      return { kind: 'year' };
    case 245:
      return { kind: 'json' };
    case 255:
      return { kind: 'unsupported', dialect: 'mysql', name: 'geometry' };
    case 6:
      return { kind: 'text' };
    default: {
      // Strings and blobs; ENUM/SET values are not in result metadata, so they read as text.
      if ((flags & (FLAG_ENUM | FLAG_SET)) !== 0) return { kind: 'text' };
      const blob = field.columnType !== undefined && field.columnType >= 249 && field.columnType <= 252;
      if (binary)
        return blob
          ? { kind: 'binary' }
          : { kind: 'binary', maxLength: Math.max(1, length), ...(field.columnType === 254 ? { fixed: true } : {}) };
      if (blob) return { kind: 'text' };
      // columnLength is in bytes of the connection charset (utf8mb4: 4 per character).
      const chars = Math.max(1, Math.floor(length / 4));
      return field.columnType === 254
        ? { kind: 'text', maxLength: chars, fixed: true }
        : { kind: 'text', maxLength: chars };
    }
  }
}

const BYTES_PER_CHAR: Record<string, number> = {
  utf8mb4: 4,
  utf8mb3: 3,
  utf8: 3,
  latin1: 1,
  ascii: 1,
  binary: 1,
  ucs2: 2,
  utf16: 4,
  utf16le: 4,
  utf32: 4,
  cp1250: 1,
  cp1251: 1,
  cp1252: 1,
  latin2: 1,
  greek: 1,
  hebrew: 1,
};
export function mysqlBytesPerChar(charset: string | undefined): number {
  return (charset && BYTES_PER_CHAR[charset.toLowerCase()]) || 4;
}

/** InnoDB (DYNAMIC rows): an index key is at most 3072 bytes; a row's VARCHARs at most 65535. */
const KEY_BYTES = 3072;
export const MYSQL_ROW_BYTES = 65_535;

function textFamily(bytes: number, binary: boolean): string {
  if (bytes <= 65_535) return binary ? 'BLOB' : 'TEXT';
  if (bytes <= 16_777_215) return binary ? 'MEDIUMBLOB' : 'MEDIUMTEXT';
  return binary ? 'LONGBLOB' : 'LONGTEXT';
}

/**
 * Text that did not come from MySQL (no MySQL charset) is stored as utf8mb4 with the binary
 * collation: PostgreSQL compares text case- and accent-sensitively, so 'a' and 'A' stay two
 * distinct keys and equality means what it meant at the source.
 */
function textCharset(type: Extract<CanonicalType, { kind: 'text' }>): {
  charset: string;
  collation: string;
  clause: string;
} {
  const charset = type.charset ?? 'utf8mb4';
  const collation = type.charset ? (type.collation ?? '') : 'utf8mb4_bin';
  // Both become DDL text (CHARACTER SET x COLLATE y): only plain names, whoever wrote the type.
  for (const [what, name] of [
    ['charset', charset],
    ['collation', collation],
  ] as const) {
    const problem = name === '' ? undefined : mysqlCharsetNameProblem(name);
    if (problem) throw new TypeNotMappable(type, 'mysql', `${what} ${showName(name)} ${problem}`);
  }
  return { charset, collation, clause: ` CHARACTER SET ${charset}${collation ? ` COLLATE ${collation}` : ''}` };
}

/** Characters a key column may hold within the shared 3072-byte index budget. */
function keyChars(ctx: MappingContext, bytesPerChar: number): number {
  return Math.max(1, Math.floor(KEY_BYTES / Math.max(1, ctx.keyCount) / bytesPerChar));
}

function textDdl(type: Extract<CanonicalType, { kind: 'text' }>, ctx: MappingContext): MappedType {
  const cs = textCharset(type);
  const bpc = mysqlBytesPerChar(cs.charset);
  const meta = { charset: cs.charset, ...(cs.collation ? { collation: cs.collation } : {}) };
  if (ctx.key) {
    // TEXT cannot be a key without a prefix length (which would make the key a prefix): VARCHAR,
    // as long as the index allows. A longer value fails on write, naming the column.
    const n = Math.min(type.maxLength ?? Number.MAX_SAFE_INTEGER, keyChars(ctx, bpc));
    return type.fixed && type.maxLength !== undefined && n <= 255
      ? { ddl: `CHAR(${n})${cs.clause}`, type: { kind: 'text', maxLength: n, fixed: true, ...meta } }
      : { ddl: `VARCHAR(${n})${cs.clause}`, type: { kind: 'text', maxLength: n, ...meta } };
  }
  const n = type.maxLength;
  if (n !== undefined && type.fixed && n <= 255)
    return { ddl: `CHAR(${n})${cs.clause}`, type: { kind: 'text', maxLength: n, fixed: true, ...meta } };
  if (n !== undefined && !ctx.forceLob && n * bpc <= MYSQL_ROW_BYTES - 2)
    return { ddl: `VARCHAR(${n})${cs.clause}`, type: { kind: 'text', maxLength: n, ...meta } };
  // The bound stays in the type (TEXT holds more, but the data came bounded): mapping again gives the same DDL.
  return {
    ddl: `${textFamily(n === undefined ? Infinity : n * bpc, false)}${cs.clause}`,
    type: { kind: 'text', ...(n !== undefined ? { maxLength: n } : {}), ...meta },
  };
}

function binaryDdl(type: Extract<CanonicalType, { kind: 'binary' }>, ctx: MappingContext): MappedType {
  if (ctx.key) {
    const n = Math.min(type.maxLength ?? Number.MAX_SAFE_INTEGER, keyChars(ctx, 1));
    return type.fixed && type.maxLength !== undefined && n <= 255
      ? { ddl: `BINARY(${n})`, type: { kind: 'binary', maxLength: n, fixed: true } }
      : { ddl: `VARBINARY(${n})`, type: { kind: 'binary', maxLength: n } };
  }
  const n = type.maxLength;
  if (n !== undefined && type.fixed && n <= 255)
    return { ddl: `BINARY(${n})`, type: { kind: 'binary', maxLength: n, fixed: true } };
  if (n !== undefined && !ctx.forceLob && n <= MYSQL_ROW_BYTES - 2)
    return { ddl: `VARBINARY(${n})`, type: { kind: 'binary', maxLength: n } };
  return {
    ddl: textFamily(n ?? Infinity, true),
    type: { kind: 'binary', ...(n !== undefined ? { maxLength: n } : {}) },
  };
}

const NETWORK_LENGTH: Record<string, number> = { inet: 43, cidr: 43, macaddr: 17, macaddr8: 23 };

/** MySQL/MariaDB DDL for a canonical type (see README for the table). */
export function mysqlDdlType(type: CanonicalType, ctx: MappingContext): MappedType {
  switch (type.kind) {
    case 'integer': {
      const name = { 8: 'TINYINT', 16: 'SMALLINT', 24: 'MEDIUMINT', 32: 'INT', 64: 'BIGINT' }[type.bits];
      return {
        ddl: type.unsigned ? `${name} UNSIGNED` : name,
        type: { kind: 'integer', bits: type.bits, ...(type.unsigned ? { unsigned: true } : {}) },
      };
    }
    case 'decimal': {
      // PostgreSQL's unbounded numeric: the widest MySQL decimal; a value that does not fit fails on write.
      if (type.precision === undefined)
        return { ddl: 'DECIMAL(65,30)', type: { kind: 'decimal', precision: 65, scale: 30 } };
      const scale = type.scale ?? 0;
      if (type.precision > 65 || scale > 30 || scale < 0)
        throw new TypeNotMappable(
          type,
          'mysql',
          `numeric(${type.precision},${scale}) does not fit MySQL DECIMAL (at most 65 digits, 30 after the point)`,
        );
      return {
        ddl: `DECIMAL(${type.precision},${scale})`,
        type: { kind: 'decimal', precision: type.precision, scale },
      };
    }
    case 'float':
      return type.bits === 32 ? { ddl: 'FLOAT', type } : { ddl: 'DOUBLE', type: { kind: 'float', bits: 64 } };
    case 'boolean':
      return { ddl: 'BOOLEAN', type };
    case 'text':
      return textDdl(type, ctx);
    case 'binary':
      return binaryDdl(type, ctx);
    case 'date':
      return { ddl: 'DATE', type };
    case 'time':
      // No time-with-offset type: the text form keeps the offset.
      if (type.withTimeZone) return textDdl({ kind: 'text', maxLength: 32 }, ctx);
      return {
        ddl: `TIME(${Math.min(type.precision ?? 6, 6)})`,
        type: { kind: 'time', precision: Math.min(type.precision ?? 6, 6) },
      };
    case 'timestamp': {
      // DATETIME, not TIMESTAMP, even with a time zone: TIMESTAMP stops in 2038. Sessions run in
      // UTC, so the column holds the UTC wall clock of the instant.
      const p = Math.min(type.precision ?? 6, 6);
      return { ddl: `DATETIME(${p})`, type: { kind: 'timestamp', precision: p, withTimeZone: false } };
    }
    case 'interval':
      return textDdl({ kind: 'text', maxLength: 100 }, ctx);
    case 'json':
      return { ddl: 'JSON', type: { kind: 'json' } };
    case 'enum':
      if (type.values.length === 0 || type.values.length > 65_535)
        throw new TypeNotMappable(
          type,
          'mysql',
          `MySQL ENUM needs 1 to 65535 values, this one has ${type.values.length}`,
        );
      // Binary collation: PostgreSQL labels 'a' and 'A' are two values.
      return {
        ddl: `ENUM(${type.values.map((v) => quoteLiteral(v, 'mysql')).join(',')}) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`,
        type: { kind: 'enum', values: type.values },
      };
    case 'set':
      if (type.values.length > 64 || type.values.some((v) => v.includes(',')))
        return { ddl: 'JSON', type: { kind: 'json' } };
      return {
        ddl: `SET(${type.values.map((v) => quoteLiteral(v, 'mysql')).join(',')}) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`,
        type: { kind: 'set', values: type.values },
      };
    case 'uuid':
      // CHAR(36) rather than MariaDB's UUID type so the same DDL runs on MySQL.
      return {
        ddl: 'CHAR(36) CHARACTER SET ascii COLLATE ascii_bin',
        type: { kind: 'text', maxLength: 36, fixed: true, charset: 'ascii', collation: 'ascii_bin' },
      };
    case 'array':
      return { ddl: 'JSON', type: { kind: 'json' } };
    case 'year':
      return { ddl: 'YEAR', type };
    case 'bit':
      if (!type.varying && type.length !== undefined && type.length <= 64)
        return { ddl: `BIT(${type.length})`, type: { kind: 'bit', length: type.length } };
      return textDdl(
        {
          kind: 'text',
          charset: 'ascii',
          collation: 'ascii_bin',
          ...(type.length !== undefined ? { maxLength: type.length } : {}),
        },
        ctx,
      );
    case 'other': {
      if (type.dialect === 'mysql') {
        const problem = otherTypeNameProblem('mysql', type.name);
        if (problem) throw new TypeNotMappable(type, 'mysql', `type name ${showName(type.name)} ${problem}`);
        return { ddl: type.name.toUpperCase(), type };
      }
      const n = NETWORK_LENGTH[type.name];
      return textDdl(n ? { kind: 'text', maxLength: n } : { kind: 'text' }, ctx);
    }
    case 'unsupported':
      throw new TypeNotMappable(type, 'mysql', `${type.dialect} type ${type.name} has no MySQL equivalent`);
  }
}

/** Bytes a mapped column takes of the 65535-byte row limit (TEXT/BLOB count a 12-byte pointer). */
export function mysqlRowBytes(mapped: MappedType): number {
  const t = mapped.type;
  if (t.kind === 'text' && t.maxLength !== undefined && /^(VAR)?CHAR\(/.test(mapped.ddl))
    return t.maxLength * mysqlBytesPerChar(t.charset) + 2;
  if (t.kind === 'binary' && t.maxLength !== undefined && /^(VAR)?BINARY\(/.test(mapped.ddl)) return t.maxLength + 2;
  return 12;
}
