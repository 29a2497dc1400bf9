// Walks the config schema's leaves: the environment variable of each key and
// the generated documentation both come from this one walk.
import type { z } from 'zod';

export interface Leaf {
  /** dotted path, e.g. "http.port" */
  path: string;
  /** ENVOI_HTTP_PORT */
  env: string;
  type: string;
  description: string;
  defaultValue: unknown;
  choices?: string[];
}

type Any = z.ZodType & { _zod: { def: any } };

export function leaves(schema: Any, prefix: string[] = []): Leaf[] {
  const def = schema._zod.def;
  const shape = def.shape as Record<string, Any>;
  const out: Leaf[] = [];
  for (const [key, child] of Object.entries(shape)) {
    const path = [...prefix, key];
    let node = child;
    let description = child.description ?? '';
    let defaultValue: unknown;
    // unwrap default / prefault / optional to reach the value's type
    for (;;) {
      const d = node._zod.def;
      if (d.type === 'default' || d.type === 'prefault') {
        if (d.type === 'default') defaultValue = typeof d.defaultValue === 'function' ? d.defaultValue() : d.defaultValue;
        node = d.innerType;
      } else if (d.type === 'optional') node = d.innerType;
      else break;
      description ||= node.description ?? '';
    }
    const d = node._zod.def;
    if (d.type === 'object') {
      out.push(...leaves(node, path));
      continue;
    }
    out.push({
      path: path.join('.'),
      env: 'ENVOI_' + path.map((p) => p.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase()).join('_'),
      type: d.type === 'enum' ? 'enum' : d.type,
      description,
      defaultValue,
      ...(d.type === 'enum' ? { choices: Object.values(d.entries as Record<string, string>) } : {}),
    });
  }
  return out;
}
