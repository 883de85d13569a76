/**
 * Makes a driver value JSON-safe without losing information: binary becomes tagged base64,
 * bigint a decimal string; dates arrive as strings already (drivers are set not to parse them,
 * so no time zone shift can happen).
 */
export function toWire(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value)) return { $binary: value.toString('base64') };
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  return value;
}
