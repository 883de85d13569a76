import fp from 'fastify-plugin';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { GatewayError, GatewayErrorCode } from '../errors';

/** A payload in Temporal's remote codec protocol: base64 metadata values and data. */
export interface JsonPayload {
  metadata: Record<string, string>;
  data: string;
}

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data, 'base64'),
});
const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')]),
  ),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

/** The payload codec's decode over JSON, for the Temporal Web UI and CLI (`--codec-endpoint`). */
export function createCodecService(deps: { codec: PayloadCodec }) {
  // Decode only, and without a serialization context: an operator inspects payloads of any workflow.
  const run = async (payloads: JsonPayload[]) => {
    try {
      return { payloads: (await deps.codec.decode(payloads.map(fromJson))).map(toJson) };
    } catch (err) {
      // A payload this codec cannot read is the caller's input, not a gateway fault.
      throw new GatewayError(GatewayErrorCode.badRequest, (err as Error).message);
    }
  };
  return { decode: run };
}
export type CodecService = ReturnType<typeof createCodecService>;

declare module 'fastify' {
  interface FastifyInstance {
    codec: CodecService;
  }
}

export const codecServicePlugin = fp<{ codec: PayloadCodec }>(
  async (app, deps) => void app.decorate('codec', createCodecService(deps)),
  { name: 'codec-service', fastify: '5.x' },
);
