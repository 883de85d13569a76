'use client';

import { useState, type FormEvent } from 'react';

/**
 * A list page's filter form: what the person is typing (`field` binds an input to it) and what was
 * applied (the list reads `applied`, so typing does not reload the list until the form is submitted).
 */
export function useFilterForm<F extends { [K in keyof F]: string }>(empty: F) {
  const [draft, setDraft] = useState<F>(empty);
  const [applied, setApplied] = useState<F>(empty);
  return {
    applied,
    field: (name: keyof F) => ({
      value: draft[name],
      onChange: (e: { target: { value: string } }) => setDraft({ ...draft, [name]: e.target.value }),
    }),
    /** The form's submit handler: `reset` (back to the first page), then the typed filters apply. */
    submit: (reset: () => void) => (e: FormEvent) => {
      e.preventDefault();
      reset();
      setApplied(draft);
    },
  };
}

/** A datetime-local value (the person's local time) as the ISO instant the gateway takes. */
export const instant = (local: string) => (local ? new Date(local).toISOString() : undefined);
