/** The sys.columns / sys.types facts a column's type name is built from. */
export interface MssqlColumnType {
  type_name: string;
  type_schema: string;
  is_user_defined: boolean;
  /** Bytes; -1 for (max). */
  max_length: number;
  precision: number;
  scale: number;
}

/** A column's type as SQL Server's own DDL spells it: nvarchar(50), varchar(max), decimal(5,2), datetime2(7). */
export function mssqlTypeName(c: MssqlColumnType): string {
  if (c.is_user_defined) return `${c.type_schema}.${c.type_name}`;
  const name = c.type_name;
  switch (name) {
    case 'varchar':
    case 'char':
    case 'varbinary':
    case 'binary':
      return `${name}(${c.max_length === -1 ? 'max' : c.max_length})`;
    case 'nvarchar':
    case 'nchar':
      return `${name}(${c.max_length === -1 ? 'max' : c.max_length / 2})`;
    case 'decimal':
    case 'numeric':
      return `${name}(${c.precision},${c.scale})`;
    case 'datetime2':
    case 'time':
    case 'datetimeoffset':
      return `${name}(${c.scale})`;
    case 'float':
      return c.precision === 53 ? 'float' : `float(${c.precision})`;
    default:
      return name;
  }
}
