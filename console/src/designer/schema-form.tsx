'use client';

import { useId, useState } from 'react';
import type { JsonSchema } from './step-kinds';

/**
 * A form generated from a JSON Schema (the subset zod's `toJSONSchema` writes for model.ts):
 * objects become fieldsets, enums selects, strings and numbers labelled inputs, booleans checkboxes,
 * string lists comma-separated inputs, discriminated unions a select of their variant, and
 * anything else (records of objects, lists of objects) a JSON text area. Every control has a label;
 * a field the validator names (`invalidPaths`) is marked aria-invalid.
 */
export interface SchemaFormProps {
  schema: JsonSchema;
  value: unknown;
  onChange: (value: unknown) => void;
  /** Fields not shown (the step's kind is the node's, not editable). */
  hidden?: string[];
  /** Paths inside the value (`db.table.name`) the validator named. */
  invalidPaths?: Set<string>;
  /** Fields with their own editor (the map transform's mapping editor). */
  custom?: Record<string, React.ReactNode>;
}

export function SchemaForm({ schema, value, onChange, hidden = [], invalidPaths, custom }: SchemaFormProps) {
  return (
    <ObjectFields
      schema={schema}
      value={asObject(value)}
      onChange={onChange}
      path=""
      hidden={new Set(hidden)}
      invalid={invalidPaths ?? new Set()}
      custom={custom ?? {}}
    />
  );
}

interface FieldContext {
  path: string;
  invalid: Set<string>;
  custom: Record<string, React.ReactNode>;
}

const asObject = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const props = (s: JsonSchema) => (s.properties ?? {}) as Record<string, JsonSchema>;
const join = (path: string, key: string) => (path ? `${path}.${key}` : key);
/** `keyColumns` → "key columns". */
export const humanize = (key: string) =>
  key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[-_]/g, ' ')
    .toLowerCase();

/** The property whose `const` tells the variants of a oneOf apart (`kind`, `op`, `policy`). */
function discriminatorOf(variants: JsonSchema[]): string | undefined {
  const first = variants[0];
  if (!first) return undefined;
  return Object.keys(props(first)).find((k) => variants.every((v) => props(v)[k]?.const !== undefined));
}

function ObjectFields({
  schema,
  value,
  onChange,
  path,
  hidden = new Set(),
  invalid,
  custom,
}: {
  schema: JsonSchema;
  value: Record<string, unknown>;
  onChange: (v: unknown) => void;
  hidden?: Set<string>;
} & FieldContext) {
  const required = new Set((schema.required ?? []) as string[]);
  return (
    <>
      {Object.entries(props(schema))
        .filter(([key, s]) => !hidden.has(key) && s.const === undefined)
        .map(([key, s]) => {
          const fieldPath = join(path, key);
          if (custom[fieldPath]) return <div key={key}>{custom[fieldPath]}</div>;
          return (
            <Field
              key={key}
              name={key}
              schema={s}
              required={required.has(key)}
              value={value[key]}
              onChange={(v) => {
                const next = { ...value };
                if (v === undefined) delete next[key];
                else next[key] = v;
                onChange(next);
              }}
              path={fieldPath}
              invalid={invalid}
              custom={custom}
            />
          );
        })}
    </>
  );
}

function Field({
  name,
  schema,
  required,
  value,
  onChange,
  path,
  invalid,
  custom,
}: {
  name: string;
  schema: JsonSchema;
  required: boolean;
  value: unknown;
  onChange: (v: unknown) => void;
} & FieldContext) {
  const id = useId();
  const label = humanize(name) + (required ? '' : ' (optional)');
  const isInvalid = invalid.has(path);
  const common = { id, 'aria-invalid': isInvalid || undefined } as const;
  const variants = schema.oneOf as JsonSchema[] | undefined;

  if (variants) {
    const disc = discriminatorOf(variants);
    if (disc) return <UnionField {...{ name, variants, disc, required, value, onChange, path, invalid, custom }} />;
  }
  if (schema.type === 'object' && schema.properties) {
    const present = value !== undefined;
    return (
      <fieldset className={isInvalid ? 'field-invalid' : undefined}>
        <legend>{label}</legend>
        {!required && (
          <button type="button" className="link" onClick={() => onChange(present ? undefined : {})}>
            {present ? `Remove ${humanize(name)}` : `Add ${humanize(name)}`}
          </button>
        )}
        {(present || required) && (
          <ObjectFields
            schema={schema}
            value={asObject(value)}
            onChange={onChange}
            path={path}
            invalid={invalid}
            custom={custom}
          />
        )}
      </fieldset>
    );
  }
  if (Array.isArray(schema.enum)) {
    return (
      <div className="field">
        <label htmlFor={id}>{label}</label>
        <select
          {...common}
          value={typeof value === 'string' ? value : ''}
          onChange={(e) => onChange(e.target.value || undefined)}
        >
          {(!required || value === undefined) && (
            <option value="">{schema.default !== undefined ? `(default: ${String(schema.default)})` : '(none)'}</option>
          )}
          {(schema.enum as string[]).map((v) => (
            <option key={v} value={v}>
              {v}
            </option>
          ))}
        </select>
      </div>
    );
  }
  if (schema.type === 'string') {
    return (
      <div className="field">
        <label htmlFor={id}>{label}</label>
        <input
          {...common}
          type="text"
          value={typeof value === 'string' ? value : ''}
          placeholder={schema.default !== undefined ? String(schema.default) : undefined}
          onChange={(e) => onChange(e.target.value === '' && !required ? undefined : e.target.value)}
        />
      </div>
    );
  }
  if (schema.type === 'integer' || schema.type === 'number') {
    return (
      <div className="field">
        <label htmlFor={id}>{label}</label>
        <input
          {...common}
          type="number"
          step={schema.type === 'integer' ? 1 : 'any'}
          value={typeof value === 'number' ? value : ''}
          placeholder={schema.default !== undefined ? String(schema.default) : undefined}
          onChange={(e) => onChange(e.target.value === '' ? undefined : Number(e.target.value))}
        />
      </div>
    );
  }
  if (schema.type === 'boolean') {
    return (
      <div className="field field-check">
        <input {...common} type="checkbox" checked={value === true} onChange={(e) => onChange(e.target.checked)} />
        <label htmlFor={id}>{label}</label>
      </div>
    );
  }
  const items = schema.items as JsonSchema | undefined;
  if (schema.type === 'array' && items && (items.type === 'string' || Array.isArray(items.enum))) {
    return <ListField {...{ id, label, value, onChange, required, isInvalid }} />;
  }
  return <JsonField {...{ id, label, value, onChange, isInvalid }} />;
}

function UnionField({
  name,
  variants,
  disc,
  required,
  value,
  onChange,
  path,
  invalid,
  custom,
}: {
  name: string;
  variants: JsonSchema[];
  disc: string;
  required: boolean;
  value: unknown;
  onChange: (v: unknown) => void;
} & FieldContext) {
  const id = useId();
  const current = asObject(value);
  const chosen = variants.find((v) => props(v)[disc]?.const === current[disc]);
  return (
    <fieldset className={invalid.has(path) ? 'field-invalid' : undefined}>
      <legend>{humanize(name) + (required ? '' : ' (optional)')}</legend>
      <div className="field">
        <label htmlFor={id}>{humanize(disc)}</label>
        <select
          id={id}
          value={typeof current[disc] === 'string' ? (current[disc] as string) : ''}
          onChange={(e) => onChange(e.target.value ? { [disc]: e.target.value } : undefined)}
        >
          {(!required || value === undefined) && <option value="">(none)</option>}
          {variants.map((v) => {
            const c = String(props(v)[disc]?.const);
            return (
              <option key={c} value={c}>
                {c}
              </option>
            );
          })}
        </select>
      </div>
      {chosen && (
        <ObjectFields
          schema={chosen}
          value={current}
          onChange={onChange}
          path={path}
          invalid={invalid}
          custom={custom}
        />
      )}
    </fieldset>
  );
}

function ListField({
  id,
  label,
  value,
  onChange,
  required,
  isInvalid,
}: {
  id: string;
  label: string;
  value: unknown;
  onChange: (v: unknown) => void;
  required: boolean;
  isInvalid: boolean;
}) {
  const text = Array.isArray(value) ? value.join(', ') : '';
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type="text"
        aria-invalid={isInvalid || undefined}
        aria-describedby={`${id}-hint`}
        value={text}
        onChange={(e) => {
          const parts = e.target.value.split(',').map((s) => s.trim());
          const list = parts.filter((s, i) => s !== '' || i === parts.length - 1);
          onChange(list.length === 1 && list[0] === '' ? (required ? [] : undefined) : list);
        }}
      />
      <span id={`${id}-hint`} className="hint">
        Separate values with commas.
      </span>
    </div>
  );
}

/** Fallback for shapes a generated control cannot represent well: the JSON itself, parsed on each edit. */
function JsonField({
  id,
  label,
  value,
  onChange,
  isInvalid,
}: {
  id: string;
  label: string;
  value: unknown;
  onChange: (v: unknown) => void;
  isInvalid: boolean;
}) {
  const [text, setText] = useState(() => (value === undefined ? '' : JSON.stringify(value, null, 2)));
  const [problem, setProblem] = useState('');
  return (
    <div className="field">
      <label htmlFor={id}>{label} (JSON)</label>
      <textarea
        id={id}
        rows={4}
        aria-invalid={isInvalid || !!problem || undefined}
        aria-describedby={problem ? `${id}-problem` : undefined}
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          if (e.target.value.trim() === '') {
            setProblem('');
            onChange(undefined);
            return;
          }
          try {
            onChange(JSON.parse(e.target.value));
            setProblem('');
          } catch (err) {
            setProblem(err instanceof Error ? err.message : 'not JSON');
          }
        }}
      />
      {problem && (
        <span id={`${id}-problem`} className="error">
          Not JSON yet: {problem}
        </span>
      )}
    </div>
  );
}
