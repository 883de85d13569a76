import { sql, type Kysely } from 'kysely';

/**
 * Webhook triggers (issue 10, item 4): one hook per definition, reached at POST /v1/hooks/<hook id>
 * (a random id, not the definition's), and its signing secrets, sealed (AES-256-GCM) by the
 * gateway before they are stored. Rotation keeps the previous secret live until its expiry, so a
 * hook has at most two live secrets.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('webhooks')
    .addColumn('hook_id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
    .addColumn('definition_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('webhooks_definition_unique', ['tenant_id', 'definition_id'])
    .execute();
  await db.schema
    .createTable('webhook_secrets')
    .addColumn('secret_id', 'text', (c) => c.primaryKey())
    .addColumn('hook_id', 'text', (c) => c.notNull().references('webhooks.hook_id').onDelete('cascade'))
    /** Which master key sealed it (the first of VSC_BUFFER_KEYS at the time). */
    .addColumn('key_id', 'text', (c) => c.notNull())
    /** nonce (12) | ciphertext | tag (16); the hook and secret ids are its associated data. */
    .addColumn('sealed', 'bytea', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    /** Null while it is the current secret; set when a rotation retires it. */
    .addColumn('expires_at', 'timestamptz')
    .execute();
  await db.schema
    .createIndex('webhook_secrets_hook')
    .on('webhook_secrets')
    .columns(['hook_id', 'created_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('webhook_secrets').execute();
  await db.schema.dropTable('webhooks').execute();
}
