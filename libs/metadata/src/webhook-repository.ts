import type { MetadataDb } from './open-database';

export interface WebhookRow {
  hookId: string;
  tenantId: string;
  definitionId: string;
  createdAt: Date;
}

export interface WebhookSecretRow {
  secretId: string;
  keyId: string;
  sealed: Buffer;
  createdAt: Date;
  /** Undefined while current. */
  expiresAt?: Date;
}

const hookOf = (r: { hook_id: string; tenant_id: string; definition_id: string; created_at: Date }): WebhookRow => ({
  hookId: r.hook_id,
  tenantId: r.tenant_id,
  definitionId: r.definition_id,
  createdAt: new Date(r.created_at),
});

/**
 * Webhook hooks and their sealed secrets. The store keeps secrets sealed: the gateway seals them
 * before they come here and opens them after. Live secrets are the current one (no expiry) and
 * those whose expiry is still ahead; a rotation retires the others at once, so at most two are live.
 */
export function createWebhookRepository(db: MetadataDb, now: () => number = Date.now) {
  const live = (hookId: string) =>
    db
      .selectFrom('webhook_secrets')
      .select(['secret_id', 'key_id', 'sealed', 'created_at', 'expires_at'])
      .where('hook_id', '=', hookId)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', new Date(now()))]))
      .orderBy('created_at', 'desc')
      .orderBy('secret_id')
      .execute()
      .then((rows) =>
        rows.map((r): WebhookSecretRow => ({
          secretId: r.secret_id,
          keyId: r.key_id,
          sealed: Buffer.from(r.sealed),
          createdAt: new Date(r.created_at),
          expiresAt: r.expires_at ? new Date(r.expires_at) : undefined,
        })),
      );

  return {
    /** Creates the hook of a definition with its first secret; false when the definition has one already. */
    async create(
      hook: { hookId: string; tenantId: string; definitionId: string },
      secret: { secretId: string; keyId: string; sealed: Buffer },
    ): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        const inserted = await trx
          .insertInto('webhooks')
          .values({ hook_id: hook.hookId, tenant_id: hook.tenantId, definition_id: hook.definitionId })
          .onConflict((oc) => oc.columns(['tenant_id', 'definition_id']).doNothing())
          .executeTakeFirst();
        if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) return false;
        await trx
          .insertInto('webhook_secrets')
          .values({ secret_id: secret.secretId, hook_id: hook.hookId, key_id: secret.keyId, sealed: secret.sealed })
          .execute();
        return true;
      });
    },

    /** A hook by its id, with its live secrets (newest first). */
    async find(hookId: string): Promise<(WebhookRow & { secrets: WebhookSecretRow[] }) | undefined> {
      const row = await db.selectFrom('webhooks').selectAll().where('hook_id', '=', hookId).executeTakeFirst();
      return row ? { ...hookOf(row), secrets: await live(hookId) } : undefined;
    },

    /**
     * What a delivery needs, in ONE statement (a delivery's latency is its round trips): the hook,
     * its live secrets (newest first), and the number and content hash of its definition's published
     * version (undefined when none is published or the definition is archived). Read fresh on every
     * delivery, so a rotation or a publish on any gateway node applies to the next delivery; the
     * caller may cache the version's document by (version, hash), which never changes.
     */
    async findForDelivery(hookId: string): Promise<
      | (WebhookRow & {
          secrets: WebhookSecretRow[];
          published?: { version: number; hash: string };
        })
      | undefined
    > {
      const rows = await db
        .selectFrom('webhooks as w')
        .leftJoin('definitions as d', (j) =>
          j.onRef('d.tenant_id', '=', 'w.tenant_id').onRef('d.id', '=', 'w.definition_id'),
        )
        .leftJoin('definition_versions as v', (j) =>
          j
            .onRef('v.tenant_id', '=', 'd.tenant_id')
            .onRef('v.definition_id', '=', 'd.id')
            .onRef('v.version', '=', 'd.published_version'),
        )
        .leftJoin('webhook_secrets as s', (j) =>
          j
            .onRef('s.hook_id', '=', 'w.hook_id')
            .on((eb) => eb.or([eb('s.expires_at', 'is', null), eb('s.expires_at', '>', new Date(now()))])),
        )
        .select([
          'w.hook_id',
          'w.tenant_id',
          'w.definition_id',
          'w.created_at',
          'd.status',
          'd.published_version',
          'v.hash as published_hash',
          's.secret_id',
          's.key_id',
          's.sealed',
          's.created_at as secret_created_at',
          's.expires_at',
        ])
        .where('w.hook_id', '=', hookId)
        .orderBy('s.created_at', 'desc')
        .orderBy('s.secret_id')
        .execute();
      const first = rows[0];
      if (!first) return undefined;
      const secrets = rows.flatMap((r): WebhookSecretRow[] =>
        r.secret_id && r.key_id && r.sealed && r.secret_created_at
          ? [
              {
                secretId: r.secret_id,
                keyId: r.key_id,
                sealed: Buffer.from(r.sealed),
                createdAt: new Date(r.secret_created_at),
                expiresAt: r.expires_at ? new Date(r.expires_at) : undefined,
              },
            ]
          : [],
      );
      const published =
        first.status === 'active' && first.published_version !== null && first.published_hash
          ? { version: first.published_version, hash: first.published_hash }
          : undefined;
      return { ...hookOf(first), secrets, ...(published ? { published } : {}) };
    },

    /** The hook of a tenant's definition, with its live secrets. */
    async forDefinition(
      tenantId: string,
      definitionId: string,
    ): Promise<(WebhookRow & { secrets: WebhookSecretRow[] }) | undefined> {
      const row = await db
        .selectFrom('webhooks')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('definition_id', '=', definitionId)
        .executeTakeFirst();
      return row ? { ...hookOf(row), secrets: await live(row.hook_id) } : undefined;
    },

    /**
     * Adds a new current secret. The one current until now stays live until `previousExpiresAt`;
     * every older one expires now, so two secrets at most are live.
     */
    async rotate(
      hookId: string,
      secret: { secretId: string; keyId: string; sealed: Buffer },
      previousExpiresAt: Date,
    ): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const at = new Date(now());
        await trx
          .updateTable('webhook_secrets')
          .set({ expires_at: at })
          .where('hook_id', '=', hookId)
          .where('expires_at', 'is not', null)
          .where('expires_at', '>', at)
          .execute();
        await trx
          .updateTable('webhook_secrets')
          .set({ expires_at: previousExpiresAt })
          .where('hook_id', '=', hookId)
          .where('expires_at', 'is', null)
          .execute();
        await trx
          .insertInto('webhook_secrets')
          .values({ secret_id: secret.secretId, hook_id: hookId, key_id: secret.keyId, sealed: secret.sealed })
          .execute();
      });
    },

    /** Removes a tenant's hook and its secrets; false when there was none. */
    async remove(tenantId: string, definitionId: string): Promise<boolean> {
      const res = await db
        .deleteFrom('webhooks')
        .where('tenant_id', '=', tenantId)
        .where('definition_id', '=', definitionId)
        .executeTakeFirst();
      return Number(res.numDeletedRows) > 0;
    },
  };
}
export type WebhookRepository = ReturnType<typeof createWebhookRepository>;
