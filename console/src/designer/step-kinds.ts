import { definitionJsonSchema } from '@vansales/definitions';
import type { StepDraft } from './graph';

export type JsonSchema = Record<string, unknown>;

let cache: { steps: Map<string, JsonSchema>; trigger: JsonSchema } | undefined;

/**
 * The JSON Schema of each step kind and of a trigger, cut from the definition's own schema
 * (`definitionJsonSchema()`, the one the gateway serves): the forms are generated from it, so a
 * field added to model.ts appears in the designer with no change here.
 */
function schemas() {
  if (cache) return cache;
  const root = definitionJsonSchema() as { properties: Record<string, JsonSchema> };
  const stepVariants = ((root.properties.steps?.items as JsonSchema).oneOf ?? []) as JsonSchema[];
  const steps = new Map<string, JsonSchema>();
  for (const variant of stepVariants) {
    const kind = ((variant.properties as Record<string, JsonSchema>).kind?.const ?? '') as string;
    steps.set(kind, variant);
  }
  cache = { steps, trigger: root.properties.triggers?.items as JsonSchema };
  return cache;
}

export function stepSchema(kind: string): JsonSchema | undefined {
  return schemas().steps.get(kind);
}

export function triggerSchema(): JsonSchema {
  return schemas().trigger;
}

export function stepKinds(): string[] {
  return [...schemas().steps.keys()];
}

/** A palette entry: what a drop (or the Add button) puts on the canvas. */
export interface PaletteItem {
  key: string;
  label: string;
  group: 'Tables' | 'API operations' | 'Transforms' | 'Sources and destinations' | 'Control';
  /** The new step without its id (the designer gives it a free one from `idBase`). */
  step: Omit<StepDraft, 'id'>;
  idBase: string;
}

/** Starting points a person then fills in through the form (validation says what is still missing). */
export function builtInPalette(): PaletteItem[] {
  const transform = (op: string, rest: Record<string, unknown>, label: string): PaletteItem => ({
    key: `transform-${op}`,
    label,
    group: 'Transforms',
    idBase: op,
    step: { kind: 'transform', transform: { op, ...rest } },
  });
  const control = (kind: string, label: string, rest: Record<string, unknown> = {}): PaletteItem => ({
    key: kind,
    label,
    group: 'Control',
    idBase: kind,
    step: { kind, ...rest },
  });
  return [
    {
      key: 'source-cloud-db',
      label: 'Read a cloud database table',
      group: 'Sources and destinations',
      idBase: 'read',
      step: { kind: 'source', db: { endpoint: { kind: 'cloud-db', database: '' }, table: { name: '' } } },
    },
    {
      key: 'destination-cloud-db',
      label: 'Write a cloud database table',
      group: 'Sources and destinations',
      idBase: 'write',
      step: {
        kind: 'destination',
        db: { endpoint: { kind: 'cloud-db', database: '' }, table: { name: '' }, keyColumns: ['id'] },
      },
    },
    {
      key: 'source-http',
      label: 'Read an HTTP API',
      group: 'Sources and destinations',
      idBase: 'fetch',
      step: { kind: 'source', http: { endpoint: { kind: 'http', baseUrl: 'https://' }, path: '/' } },
    },
    {
      key: 'sync',
      label: 'Sync two tables',
      group: 'Sources and destinations',
      idBase: 'sync',
      step: {
        kind: 'sync',
        left: { endpoint: { kind: 'cloud-db', database: '' }, table: { name: '' } },
        right: { endpoint: { kind: 'cloud-db', database: '' }, table: { name: '' } },
        keyColumns: ['id'],
        conflict: { policy: 'prefer', side: 'left' },
      },
    },
    transform('map', { fields: { id: 'id' } }, 'Map fields (JSONata)'),
    transform('filter', { where: 'true' }, 'Filter rows'),
    transform('join', { leftKey: ['id'], rightKey: ['id'] }, 'Join two datasets'),
    transform('aggregate', { groupBy: [], measures: { count: { fn: 'count' } } }, 'Aggregate'),
    transform('dedupe', { key: ['id'] }, 'Remove duplicates'),
    transform('sort', { by: [{ field: 'id' }] }, 'Sort'),
    transform('coerce', { types: {} }, 'Convert types'),
    transform('script', { source: 'function transform(record) { return record; }' }, 'Script (sandboxed JavaScript)'),
    control('branch', 'Branch on a condition', { condition: 'true' }),
    control('parallel', 'Run in parallel'),
    control('merge', 'Merge datasets'),
    control('for-each', 'For each batch', {
      over: 'batches',
      body: { steps: [{ id: 'each', kind: 'wait', duration: '1s' }], edges: [] },
    }),
    control('wait', 'Wait', { duration: '1m' }),
    control('wait-for-signal', 'Wait for an approval'),
    control('call', 'Call another definition', { definitionId: '' }),
  ];
}

/** The trigger kinds a definition may declare (a document property, not a node). */
export function triggerKinds(): string[] {
  const variants = (triggerSchema().oneOf ?? []) as JsonSchema[];
  return variants.map((v) => ((v.properties as Record<string, JsonSchema>).kind?.const ?? '') as string);
}

/** A new trigger with its required fields started. */
export function newTrigger(kind: string): Record<string, unknown> {
  if (kind === 'schedule') return { kind, cron: '0 2 * * *', catchupWindow: '1h', overlap: 'skip' };
  if (kind === 'webhook') return { kind, scheme: 'standard-webhooks' };
  if (kind === 'site-event')
    return { kind, connectorId: '', database: '', table: { name: '' }, cursorColumn: '', keyColumns: ['id'] };
  return { kind };
}
