// Versioned templates. Saving compiles (MJML + Liquid) so a broken template
// is refused with its line and column at save time, not at send time. A
// version never changes: a campaign keeps the exact version it used.
import type { Kysely } from 'kysely';
import type { Database, TemplateVersion } from '../store/schema.ts';
import type { Clock } from '../clock.ts';
import { newId } from '../ids.ts';
import { fail, ok, type Result } from '../errors.ts';
import { isUniqueViolation } from '../store/connect.ts';
import type { OutgoingMessage } from '../compose/types.ts';
import { compileTemplate, renderTemplate, type CompiledTemplate, type TemplateSource } from '../compose/templates/index.ts';

const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export function createTemplates(db: Kysely<Database>, clock: Clock) {
  // compiled versions, by version id: versions are immutable, so the cache never goes stale
  const compiled = new Map<string, CompiledTemplate>();

  async function addVersion(templateId: string, src: TemplateSource, trx: Kysely<Database>): Promise<Result<TemplateVersion>> {
    const c = await compileTemplate(src);
    if (!c.ok) return c;
    const last = await trx.selectFrom('template_versions').select((eb) => eb.fn.max('version').as('v')).where('template_id', '=', templateId).executeTakeFirst();
    const now = clock.now();
    const row: TemplateVersion = {
      id: newId('tv', now), template_id: templateId, version: Number(last?.v ?? 0) + 1, format: src.format,
      subject: src.subject, body: src.body, text_body: src.text ?? null, created_at: now,
    };
    await trx.insertInto('template_versions').values(row).execute();
    compiled.set(row.id, c.value);
    return ok(row);
  }

  return {
    async create(tenantId: string, name: string, src: TemplateSource): Promise<Result<{ id: string; number: number; version: TemplateVersion }>> {
      if (!NAME.test(name)) return fail('request.invalid', 'a template name is 1-63 characters: a-z, 0-9, _ and -', 'name');
      try {
        return await db.transaction().execute(async (trx) => {
          const id = newId('tpl', clock.now());
          const last = await trx.selectFrom('templates').select((eb) => eb.fn.max('number').as('n')).where('tenant_id', '=', tenantId).executeTakeFirst();
          await trx.insertInto('templates').values({ id, tenant_id: tenantId, name, created_at: clock.now(), number: Number(last?.n ?? 0) + 1 }).execute();
          const v = await addVersion(id, src, trx);
          if (!v.ok) throw new RollBack(v);
          return ok({ id, number: Number(last?.n ?? 0) + 1, version: v.value });
        });
      } catch (e) {
        if (e instanceof RollBack) return e.result as Result<never>;
        if (isUniqueViolation(e)) return fail('conflict', `a template named ${name} exists already`, 'name');
        throw e;
      }
    },

    /** A new version of an existing template (by id or name). */
    async update(tenantId: string, ref: string, src: TemplateSource): Promise<Result<TemplateVersion>> {
      const t = await this.find(tenantId, ref);
      if (!t) return fail('not_found', `no template ${ref}`);
      return addVersion(t.id, src, db);
    },

    /** by id, name, or number (the Mailjet-compatible TemplateID) */
    find(tenantId: string, ref: string) {
      return db.selectFrom('templates').selectAll().where('tenant_id', '=', tenantId)
        .where((eb) => eb.or([eb('id', '=', ref), eb('name', '=', ref), ...(/^\d{1,9}$/.test(ref) ? [eb('number', '=', Number(ref))] : [])])).executeTakeFirst();
    },

    /** A message that names a template gets its subject and parts from it (REST and Mailjet-compatible APIs). */
    async apply(tenantId: string, msg: OutgoingMessage): Promise<Result<OutgoingMessage>> {
      if (!msg.template) return ok(msg);
      const r = await this.render(tenantId, msg.template.ref, msg.template.variables, msg.template.version);
      if (!r.ok) return r;
      const { template: _t, ...rest } = msg;
      return ok({ ...rest, ...r.value });
    },

    list(tenantId: string) {
      return db.selectFrom('templates as t').innerJoin('template_versions as v', 'v.template_id', 't.id')
        .select(['t.id', 't.name', 't.number', (eb) => eb.fn.max('v.version').as('latest')])
        .where('t.tenant_id', '=', tenantId).groupBy(['t.id', 't.name', 't.number']).orderBy('t.name').execute();
    },

    /** The latest version, or a given one, of a tenant's template. */
    async version(tenantId: string, ref: string, version?: number): Promise<TemplateVersion | undefined> {
      const t = await this.find(tenantId, ref);
      if (!t) return undefined;
      let q = db.selectFrom('template_versions').selectAll().where('template_id', '=', t.id);
      q = version === undefined ? q.orderBy('version', 'desc').limit(1) : q.where('version', '=', version);
      return q.executeTakeFirst();
    },

    versionById(id: string): Promise<TemplateVersion | undefined> {
      return db.selectFrom('template_versions').selectAll().where('id', '=', id).executeTakeFirst();
    },

    /** A transactional message from a template: variables are exposed as they are (`{{ order.id }}`). */
    async render(tenantId: string, ref: string, variables: Record<string, unknown>, version?: number): Promise<Result<{ subject: string; html: string; text: string }>> {
      const v = await this.version(tenantId, ref, version);
      if (!v) return fail('not_found', `no template ${ref}`, 'template');
      const c = await this.compiled(v);
      if (!c.ok) return c;
      const r = renderTemplate(c.value, variables);
      return r.ok ? ok({ subject: r.value.subject, html: r.value.html, text: r.value.text }) : r;
    },

    /** The compiled form of a version, compiled once per process. */
    async compiled(v: TemplateVersion): Promise<Result<CompiledTemplate>> {
      const hit = compiled.get(v.id);
      if (hit) return ok(hit);
      const c = await compileTemplate({ format: v.format, subject: v.subject, body: v.body, text: v.text_body ?? undefined });
      if (c.ok) compiled.set(v.id, c.value);
      return c;
    },
  };
}

/** Carries a failure out of a transaction so it rolls back. */
class RollBack extends Error {
  constructor(readonly result: Result<unknown>) {
    super('rollback');
  }
}

export type Templates = ReturnType<typeof createTemplates>;
