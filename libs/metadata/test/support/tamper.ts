import { sql } from 'kysely';
import { PGLITE_APP_ROLE, type MetadataDb } from '@vansales/metadata';

/**
 * Runs `statement` on a PGlite store as someone who can switch the audit guard off: the superuser
 * the store's connection logs in as (it acts as the lesser PGLITE_APP_ROLE, which may not alter
 * tables), then back to that role.
 */
export async function asSuperuser(db: MetadataDb, statement: ReturnType<typeof sql>): Promise<void> {
  await sql`RESET ROLE`.execute(db);
  try {
    await statement.execute(db);
  } finally {
    await sql`SET ROLE ${sql.id(PGLITE_APP_ROLE)}`.execute(db);
  }
}

/** Runs `statement` with the audit guard (the append-only trigger) switched off: a tamperer's doing. */
export async function tamper(db: MetadataDb, statement: ReturnType<typeof sql>): Promise<void> {
  await asSuperuser(db, sql`ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update_delete`);
  try {
    await asSuperuser(db, statement);
  } finally {
    await asSuperuser(db, sql`ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update_delete`);
  }
}
