import { z } from 'zod';
import { AgentPlatform, AgentUpdateOffer, UpdateFrame } from './agent-updates';
import { DoctorReport } from './doctor-report';

/**
 * Agent <-> gateway control frames, protocol v1.
 * Every frame is one JSON text message; bulk data never rides these frames.
 */
export const PROTOCOL_VERSION = 1 as const;

/**
 * Upgrade-request header carrying the agent's machine id (a hash). Informational only: the key is
 * bound to the agent's key pair (agent-proof.ts); the id is checked once, when a key bound by the old
 * scheme enrols its first key pair.
 */
export const MACHINE_ID_HEADER = 'x-vsc-machine-id';

/** Frames larger than this are refused before parsing (bytes of UTF-8 text). */
export const MAX_FRAME_BYTES = 1024 * 1024;

const id = z.string().min(1).max(128);
const jsonValue: z.ZodType<unknown> = z.unknown();

export const AgentCapability = z.enum([
  'sql.query',
  'schema.discover',
  'agent.ping',
  'data.extract',
  'data.load',
  'data.transfer',
  'data.transform',
  'http.read',
  'http.write',
  'http.write-table',
  'policy.describe',
  'sync.checksum',
  'sync.extract',
  'sync.delete',
  'table.watch',
  'api.fetch-spec',
]);
export type AgentCapability = z.infer<typeof AgentCapability>;

export const HelloFrame = z.object({
  type: z.literal('hello'),
  protocolVersion: z.number().int().positive(),
  agentVersion: z.string().max(64),
  machineId: z.string().min(1).max(128),
  capabilities: z.array(AgentCapability).max(64),
  concurrency: z.number().int().min(1).max(1024),
  databases: z.array(z.string().min(1).max(128)).max(256),
  /**
   * The agent's platform (issue 13 §5): an agent that sends it can update itself, and the gateway
   * then offers it its tenant's approved version (welcome `update`, the `update` frame).
   */
  platform: AgentPlatform.optional(),
});

export const WelcomeFrame = z.object({
  type: z.literal('welcome'),
  protocolVersion: z.number().int().positive(),
  connectorId: id,
  tenantId: id,
  taskQueue: z.string().min(1).max(256),
  heartbeatIntervalMs: z.number().int().positive(),
  /** The version the tenant approved, when it differs from the agent's (agents that sent `platform` only). */
  update: AgentUpdateOffer.optional(),
  /** The gateway's clock when it welcomed the agent: the agent's doctor checks its own clock against it. */
  gatewayTime: z.iso.datetime().optional(),
});

/** A tracestate list-member: a lowercase key (simple or tenant@system) and a printable value without , or =. */
const TRACESTATE_MEMBER = String.raw`[a-z0-9][a-z0-9_\-*/@]{0,255}=[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]`;

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/) of the span the task runs under, so the
 * agent's span joins the request's trace. Version 00 only; an all-zero trace or parent id is invalid
 * by the spec. Optional: a gateway without tracing sends none, and an agent ignores it when it does
 * not trace. A malformed value refuses the frame like any other bad field.
 */
export const TraceContext = z.object({
  traceparent: z
    .string()
    .regex(
      /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/,
      'traceparent must be 00-<trace id>-<parent id>-<flags> in lowercase hex',
    ),
  /** Vendor entries: at most 32 list-members (the spec's limit), 512 characters. */
  tracestate: z
    .string()
    .max(512)
    .regex(
      new RegExp(`^${TRACESTATE_MEMBER}(?:[ \\t]*,[ \\t]*${TRACESTATE_MEMBER}){0,31}$`),
      'tracestate must be up to 32 key=value members separated by commas',
    )
    .optional(),
});
export type TraceContext = z.infer<typeof TraceContext>;

export const TaskFrame = z.object({
  type: z.literal('task'),
  taskId: id,
  operation: AgentCapability,
  input: jsonValue,
  /** Workflow context, for the agent's own audit and logs. */
  context: z.object({
    workflowId: z.string().max(256),
    runId: z.string().max(128),
    activityId: z.string().max(256),
    attempt: z.number().int().positive(),
    /** Progress the previous attempt reported last (Temporal's heartbeat details), to resume from. */
    resumeFrom: jsonValue.optional(),
  }),
  trace: TraceContext.optional(),
});

/**
 * The calls a site step made through an API operation (http-operations' SiteApiCalls), beside the
 * answer rather than in it. Parsed by the gateway's call audit, not here: a malformed report must
 * not make the frame unreadable, which would leave the task waiting for its timeout.
 */
const ApiCallsField = jsonValue.optional();

export const ResultFrame = z
  .object({
    type: z.literal('result'),
    taskId: id,
    output: jsonValue.optional(),
    /** A large output as gzip-compressed JSON in base64, instead of `output`. */
    outputGzip: z.string().max(MAX_FRAME_BYTES).optional(),
    apiCalls: ApiCallsField,
  })
  .refine(
    (f) => (f.output === undefined) !== (f.outputGzip === undefined),
    'a result carries exactly one of output and outputGzip',
  );

/** Outputs whose JSON is larger than this travel compressed. */
export const COMPRESS_RESULT_OVER_BYTES = 256 * 1024;
/** A compressed output may never expand past this (a zip bomb is refused); the gateway's own cap may be lower. */
export const MAX_RESULT_BYTES = 64 * 1024 * 1024;

export const FailureFrame = z.object({
  type: z.literal('failure'),
  taskId: id,
  errorType: z.string().min(1).max(128),
  message: z.string().max(8192),
  retryable: z.boolean(),
  apiCalls: ApiCallsField,
});

export const ProgressFrame = z.object({
  type: z.literal('heartbeat'),
  taskId: id,
  details: jsonValue,
});

export const CancelFrame = z.object({
  type: z.literal('cancel'),
  taskId: id,
  reason: z.string().max(1024),
});

/**
 * The agent's doctor warnings (sent after each welcome and again every few minutes): the gateway
 * keeps the latest set per connector. Bounded by DoctorReport's limits; the gateway also limits
 * how often it accepts one.
 */
export const DoctorFrame = DoctorReport.extend({ type: z.literal('doctor') });

export const PingFrame = z.object({ type: z.literal('ping'), nonce: z.string().max(64) });
export const PongFrame = z.object({ type: z.literal('pong'), nonce: z.string().max(64) });

export const ProtocolErrorFrame = z.object({
  type: z.literal('protocol-error'),
  code: z.string().max(64),
  message: z.string().max(2048),
});

/** What the agent may send. */
export const AgentFrame = z.discriminatedUnion('type', [
  HelloFrame,
  ResultFrame,
  FailureFrame,
  ProgressFrame,
  DoctorFrame,
  PingFrame,
  PongFrame,
  ProtocolErrorFrame,
]);
export type AgentFrame = z.infer<typeof AgentFrame>;

/** What the gateway may send. */
export const GatewayFrame = z.discriminatedUnion('type', [
  WelcomeFrame,
  UpdateFrame,
  TaskFrame,
  CancelFrame,
  PingFrame,
  PongFrame,
  ProtocolErrorFrame,
]);
export type GatewayFrame = z.infer<typeof GatewayFrame>;

export type HelloFrame = z.infer<typeof HelloFrame>;
export type WelcomeFrame = z.infer<typeof WelcomeFrame>;
export type TaskFrame = z.infer<typeof TaskFrame>;
export type ResultFrame = z.infer<typeof ResultFrame>;
export type FailureFrame = z.infer<typeof FailureFrame>;
export type ProtocolErrorFrame = z.infer<typeof ProtocolErrorFrame>;
export type DoctorFrame = z.infer<typeof DoctorFrame>;
