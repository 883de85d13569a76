import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '@vansales/bench/support';
import { ensureLocalGoBinary, OTEL_RECEIVER } from '@vansales/infra';
import { stopChild, until } from './harness';

/** One span as the receiver wrote it, flattened: ids in hex, attributes as plain values. */
export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  status: { code?: number; message?: string };
}

export interface OtelReceiver {
  /** What a process's OTEL_EXPORTER_OTLP_ENDPOINT is set to (OTLP over HTTP/protobuf). */
  endpoint: string;
  /** Every span received so far. */
  spans(): ReceivedSpan[];
  close(): Promise<void>;
}

type AnyValue = { stringValue?: string; intValue?: string; boolValue?: boolean; doubleValue?: number };
type KeyValue = { key: string; value: AnyValue };
const plain = (v: AnyValue) =>
  v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.boolValue ?? v.doubleValue));
const attributesOf = (list: KeyValue[] = []) => Object.fromEntries(list.map((a) => [a.key, plain(a.value)]));

/**
 * The OpenTelemetry Collector of infra/go/otel-receiver (built once per machine): OTLP in over HTTP,
 * every trace out to a JSON-lines file (the collector's OTLP JSON), which `spans()` reads.
 */
export async function startOtelReceiver(dir: string): Promise<OtelReceiver> {
  const binary = ensureLocalGoBinary(OTEL_RECEIVER, (line) => process.stderr.write(`${line}\n`));
  const port = await freePort();
  const file = join(dir, 'traces.jsonl');
  const config = join(dir, 'otel-receiver.yaml');
  writeFileSync(
    config,
    [
      'receivers:',
      '  otlp:',
      '    protocols:',
      '      http:',
      `        endpoint: 127.0.0.1:${port}`,
      'exporters:',
      '  file:',
      `    path: ${file}`,
      '    flush_interval: 100ms',
      'service:',
      '  telemetry:',
      '    metrics:',
      '      level: none',
      '  pipelines:',
      '    traces:',
      '      receivers: [otlp]',
      '      exporters: [file]',
      '',
    ].join('\n'),
  );
  const child = spawn(binary, ['--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  child.stdout.on('data', (d) => output.push(String(d)));
  child.stderr.on('data', (d) => output.push(String(d)));
  await until(
    'the OTLP receiver to start',
    () => {
      if (child.exitCode !== null) throw new Error(`otel-receiver exited: ${output.join('').slice(-3000)}`);
      return output.join('').includes('Everything is ready');
    },
    60_000,
  );
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans() {
      if (!existsSync(file)) return [];
      const spans: ReceivedSpan[] = [];
      // The collector may be writing a batch as this reads: a last line without its newline is not whole yet.
      const text = readFileSync(file, 'utf8');
      const whole = text.slice(0, text.lastIndexOf('\n') + 1);
      for (const line of whole.split('\n').filter(Boolean)) {
        const batch = JSON.parse(line) as {
          resourceSpans: {
            resource: { attributes?: KeyValue[] };
            scopeSpans: { spans?: (Omit<ReceivedSpan, 'service' | 'attributes'> & { attributes?: KeyValue[] })[] }[];
          }[];
        };
        for (const rs of batch.resourceSpans) {
          const service = String(attributesOf(rs.resource.attributes)['service.name']);
          for (const scope of rs.scopeSpans)
            for (const s of scope.spans ?? [])
              spans.push({
                service,
                traceId: s.traceId,
                spanId: s.spanId,
                parentSpanId: s.parentSpanId ?? '',
                name: s.name,
                kind: s.kind,
                attributes: attributesOf(s.attributes),
                status: s.status ?? {},
              });
        }
      }
      return spans;
    },
    close: () => stopChild(child),
  };
}
