// Streams (AF-19): list and create/update.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Services } from '../../services.ts';
import type { Stream } from '../../store/schema.ts';
import { tenantOf } from '../auth.ts';
import { parseBody, unwrap } from '../validate.ts';

const SetStream = z.object({
  kind: z.enum(['transactional', 'marketing']).optional(),
  fromAddress: z.string().nullable().optional(),
  bounceLabel: z.string().optional(),
  ipPool: z.string().optional(),
}).strict();

const view = (st: Stream) => ({ name: st.name, kind: st.kind, fromAddress: st.from_address, bounceLabel: st.bounce_label, ipPool: st.ip_pool });

export function streamRoutes(app: FastifyInstance, s: Services): void {
  app.get('/v1/streams', async (req) => ({ data: (await s.streams.list(tenantOf(req))).map(view) }));

  app.put<{ Params: { name: string } }>('/v1/streams/:name', async (req) => {
    const body = parseBody(SetStream, req.body ?? {});
    return view(unwrap(await s.streams.set(tenantOf(req), req.params.name, body)));
  });
}
