import type { CanonicalType } from '../types/canonical-type';
import { type MappedType, type MappingContext, TypeNotMappable } from './unmappable';
import { otherTypeNameProblem, showName } from './type-names';

/**
 * SQL Server: DDL names only for now (no server can run here, so there is no reader or writer;
 * openDataConnection refuses the dialect). Kept complete so manifests can already be planned
 * against it and the mapping is unit-tested.
 */

/** A clustered primary key is at most 900 bytes. */
const KEY_BYTES = 900;

export function mssqlDdlType(type: CanonicalType, ctx: MappingContext): MappedType {
  const keyLimit = (bytesPerUnit: number) =>
    Math.max(1, Math.floor(KEY_BYTES / Math.max(1, ctx.keyCount) / bytesPerUnit));
  switch (type.kind) {
    case 'integer':
      switch (type.bits) {
        // SQL Server's tinyint is unsigned (0-255).
        case 8:
          return type.unsigned
            ? { ddl: 'tinyint', type: { kind: 'integer', bits: 8, unsigned: true } }
            : { ddl: 'smallint', type: { kind: 'integer', bits: 16 } };
        case 16:
          return type.unsigned
            ? { ddl: 'int', type: { kind: 'integer', bits: 32 } }
            : { ddl: 'smallint', type: { kind: 'integer', bits: 16 } };
        case 24:
          return { ddl: 'int', type: { kind: 'integer', bits: 32 } };
        case 32:
          return type.unsigned
            ? { ddl: 'bigint', type: { kind: 'integer', bits: 64 } }
            : { ddl: 'int', type: { kind: 'integer', bits: 32 } };
        case 64:
          return type.unsigned
            ? { ddl: 'decimal(20,0)', type: { kind: 'decimal', precision: 20, scale: 0 } }
            : { ddl: 'bigint', type: { kind: 'integer', bits: 64 } };
      }
      break;
    case 'decimal': {
      // Unbounded numeric: 38 digits, 10 after the point; a value that does not fit fails on write.
      if (type.precision === undefined)
        return { ddl: 'decimal(38,10)', type: { kind: 'decimal', precision: 38, scale: 10 } };
      const scale = type.scale ?? 0;
      if (type.precision > 38 || scale < 0 || scale > type.precision)
        throw new TypeNotMappable(
          type,
          'mssql',
          `numeric(${type.precision},${scale}) does not fit SQL Server decimal (at most 38 digits)`,
        );
      return {
        ddl: `decimal(${type.precision},${scale})`,
        type: { kind: 'decimal', precision: type.precision, scale },
      };
    }
    case 'float':
      return type.bits === 32 ? { ddl: 'real', type } : { ddl: 'float(53)', type: { kind: 'float', bits: 64 } };
    case 'boolean':
      return { ddl: 'bit', type };
    case 'text': {
      // Single-byte text (ASCII bit strings, intervals, MySQL ascii/latin1) as varchar; the rest as Unicode nvarchar.
      const narrow = type.charset === 'ascii' || type.charset === 'latin1';
      const [v, c, unit, max] = narrow ? ['varchar', 'char', 1, 8000] : ['nvarchar', 'nchar', 2, 4000];
      const cs = narrow ? { charset: type.charset } : {};
      if (ctx.key) {
        const n = Math.min(type.maxLength ?? Number.MAX_SAFE_INTEGER, keyLimit(unit as number));
        return { ddl: `${v}(${n})`, type: { kind: 'text', maxLength: n, ...cs } };
      }
      const n = type.maxLength;
      if (n !== undefined && n <= (max as number))
        return type.fixed
          ? { ddl: `${c}(${n})`, type: { kind: 'text', maxLength: n, fixed: true, ...cs } }
          : { ddl: `${v}(${n})`, type: { kind: 'text', maxLength: n, ...cs } };
      return { ddl: `${v}(max)`, type: { kind: 'text', ...cs } };
    }
    case 'binary': {
      if (ctx.key) {
        const n = Math.min(type.maxLength ?? Number.MAX_SAFE_INTEGER, keyLimit(1));
        return { ddl: `varbinary(${n})`, type: { kind: 'binary', maxLength: n } };
      }
      const n = type.maxLength;
      if (n !== undefined && n <= 8000)
        return type.fixed
          ? { ddl: `binary(${n})`, type: { kind: 'binary', maxLength: n, fixed: true } }
          : { ddl: `varbinary(${n})`, type: { kind: 'binary', maxLength: n } };
      return { ddl: 'varbinary(max)', type: { kind: 'binary' } };
    }
    case 'date':
      return { ddl: 'date', type };
    case 'time': {
      if (type.withTimeZone) return { ddl: 'nvarchar(32)', type: { kind: 'text', maxLength: 32 } };
      const p = Math.min(type.precision ?? 6, 7);
      return { ddl: `time(${p})`, type: { kind: 'time', precision: p } };
    }
    case 'timestamp': {
      const p = Math.min(type.precision ?? 6, 7);
      return type.withTimeZone
        ? { ddl: `datetimeoffset(${p})`, type: { kind: 'timestamp', precision: p, withTimeZone: true } }
        : { ddl: `datetime2(${p})`, type: { kind: 'timestamp', precision: p, withTimeZone: false } };
    }
    case 'interval':
      return { ddl: 'varchar(100)', type: { kind: 'text', maxLength: 100, charset: 'ascii' } };
    case 'json':
    case 'array':
    case 'set':
      // JSON text (SQL Server 2016+ functions read it); sets as JSON arrays of their members.
      return { ddl: 'nvarchar(max)', type: { kind: 'json' } };
    case 'enum': {
      const n = Math.max(1, ...type.values.map((v) => v.length));
      return { ddl: `nvarchar(${Math.min(n, 4000)})`, type: { kind: 'enum', values: type.values } };
    }
    case 'uuid':
      return { ddl: 'uniqueidentifier', type };
    case 'year':
      return { ddl: 'smallint', type: { kind: 'integer', bits: 16 } };
    case 'bit':
      return type.length !== undefined && type.length <= 8000
        ? { ddl: `varchar(${type.length})`, type: { kind: 'text', maxLength: type.length, charset: 'ascii' } }
        : { ddl: 'varchar(max)', type: { kind: 'text', charset: 'ascii' } };
    case 'other':
      if (type.dialect === 'mssql') {
        const problem = otherTypeNameProblem('mssql', type.name);
        if (problem) throw new TypeNotMappable(type, 'mssql', `type name ${showName(type.name)} ${problem}`);
        return { ddl: type.name, type };
      }
      if (type.name === 'xml') return { ddl: 'xml', type: { kind: 'other', dialect: 'mssql', name: 'xml' } };
      return { ddl: 'nvarchar(max)', type: { kind: 'text' } };
    case 'unsupported':
      throw new TypeNotMappable(type, 'mssql', `${type.dialect} type ${type.name} has no SQL Server equivalent`);
  }
  throw new TypeNotMappable(type, 'mssql', `no SQL Server type for ${JSON.stringify(type)}`);
}

/** Canonical type of a SQL Server type name as sys.types / INFORMATION_SCHEMA spell it ('nvarchar(50)', 'decimal(10,2)'). */
export function mssqlCanonicalType(typeName: string): CanonicalType {
  const m = /^\s*([a-z0-9_]+)\s*(?:\(\s*(max|\d+)\s*(?:,\s*(\d+)\s*)?\))?/i.exec(typeName);
  const base = (m?.[1] ?? typeName).toLowerCase();
  const arg = m?.[2]?.toLowerCase();
  const n = arg === undefined || arg === 'max' ? undefined : Number(arg);
  const scale = m?.[3] === undefined ? undefined : Number(m[3]);
  const len = (x: number | undefined) => (x === undefined ? {} : { maxLength: x });
  switch (base) {
    case 'tinyint':
      return { kind: 'integer', bits: 8, unsigned: true };
    case 'smallint':
      return { kind: 'integer', bits: 16 };
    case 'int':
      return { kind: 'integer', bits: 32 };
    case 'bigint':
      return { kind: 'integer', bits: 64 };
    case 'decimal':
    case 'numeric':
      return { kind: 'decimal', precision: n ?? 18, scale: scale ?? 0 };
    case 'money':
      return { kind: 'decimal', precision: 19, scale: 4 };
    case 'smallmoney':
      return { kind: 'decimal', precision: 10, scale: 4 };
    case 'real':
      return { kind: 'float', bits: 32 };
    case 'float':
      return { kind: 'float', bits: n !== undefined && n <= 24 ? 32 : 64 };
    case 'bit':
      return { kind: 'boolean' };
    case 'char':
    case 'nchar':
      return { kind: 'text', fixed: true, ...len(n ?? 1) };
    case 'varchar':
    case 'nvarchar':
      return { kind: 'text', ...len(arg === undefined ? 1 : n) };
    case 'text':
    case 'ntext':
    case 'sysname':
      return base === 'sysname' ? { kind: 'text', maxLength: 128 } : { kind: 'text' };
    case 'binary':
      return { kind: 'binary', fixed: true, ...len(n ?? 1) };
    case 'varbinary':
      return { kind: 'binary', ...len(arg === undefined ? 1 : n) };
    case 'image':
      return { kind: 'binary' };
    case 'date':
      return { kind: 'date' };
    case 'time':
      return { kind: 'time', precision: n ?? 7 };
    case 'datetime':
      return { kind: 'timestamp', precision: 3, withTimeZone: false };
    case 'smalldatetime':
      return { kind: 'timestamp', precision: 0, withTimeZone: false };
    case 'datetime2':
      return { kind: 'timestamp', precision: n ?? 7, withTimeZone: false };
    case 'datetimeoffset':
      return { kind: 'timestamp', precision: n ?? 7, withTimeZone: true };
    case 'uniqueidentifier':
      return { kind: 'uuid' };
    case 'xml':
      return { kind: 'other', dialect: 'mssql', name: 'xml' };
    case 'json':
      return { kind: 'json' };
    default:
      return { kind: 'unsupported', dialect: 'mssql', name: typeName };
  }
}
