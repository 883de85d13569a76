import { binaryEncoder, BinaryWriter } from '../../src/postgres/copy-binary';
import { copyEncoder } from '../../src/postgres/copy-text';
import type { CanonicalType } from '@vansales/dataflow';
const types: CanonicalType[] = [{kind:'integer',bits:64},{kind:'integer',bits:32},{kind:'decimal',precision:12,scale:2},{kind:'float',bits:64},{kind:'integer',bits:16},{kind:'text',maxLength:60},{kind:'text',maxLength:100},{kind:'timestamp',withTimeZone:false,precision:0},{kind:'date'},{kind:'boolean'}];
const bases = ['int8','int4','numeric','float8','int2','varchar','varchar','timestamp','date','bool'];
const N = 300000;
const rows: unknown[][] = [];
for (let s = 1; s <= N; s++) rows.push([s, s % 50000, ((s % 100000) / 100 + 0.01).toFixed(2), s / 7, s % 1000, `Customer ${s}`, `user${s}@example.com`, '2020-01-01 00:00:01', '1950-01-02', s % 2 === 0]);
const tenc = types.map(copyEncoder);
const benc = bases.map(binaryEncoder);
function text() { let len = 0; let out = ''; for (const row of rows) { for (let i = 0; i < 10; i++) { const v = row[i]; out += v === null ? '\\N' : tenc[i]!(v); out += i === 9 ? '\n' : '\t'; } if (out.length > 262144) { len += Buffer.from(out).length; out = ''; } } return len + Buffer.from(out).length; }
function binary() { let len = 0; const w = new BinaryWriter(262144 + 65536); for (const row of rows) { w.int16(10); for (let i = 0; i < 10; i++) { const v = row[i]; if (v === null) w.int32(-1); else benc[i]!(w, v); } if (w.pos >= 262144) len += w.take().length; } return len + w.take().length; }
function binaryCol(k: number) { return () => { const w = new BinaryWriter(262144 + 65536); let len = 0; for (const row of rows) { benc[k]!(w, row[k]); if (w.pos >= 262144) len += w.take().length; } return len; }; }
const cpu = (f: () => number) => { const c = process.cpuUsage(); f(); const u = process.cpuUsage(c); return Math.round((u.user + u.system) / 1000); };
for (let k = 0; k < 3; k++) console.log('text', cpu(text), 'binary', cpu(binary));
for (let i = 0; i < 10; i++) console.log(bases[i], cpu(binaryCol(i)));
