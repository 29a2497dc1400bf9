// Renders docs/configuration.md from the schema, so the docs cannot say one
// default while the code uses another.
import { configSchema } from './schema.ts';
import { leaves } from './walk.ts';

export function configurationMarkdown(): string {
  const rows = leaves(configSchema as never).map((l) => {
    const def = l.defaultValue === undefined ? '—' : '`' + JSON.stringify(l.defaultValue) + '`';
    const type = l.choices ? l.choices.map((c) => '`' + c + '`').join(' \\| ') : l.type;
    return `| \`${l.path}\` | \`${l.env}\` | ${type} | ${def} | ${l.description.replace(/\|/g, '\\|')} |`;
  });
  return [
    '# Configuration',
    '',
    '<!-- Generated from src/config/schema.ts by `npm run docs:config`; do not edit by hand. -->',
    '',
    'envoi reads, in increasing order of precedence: the defaults below, a JSON file',
    '(`--config FILE` or `ENVOI_CONFIG=FILE`), then `ENVOI_*` environment variables.',
    'Unknown keys and unknown `ENVOI_*` variables are refused at start with a message naming them.',
    '',
    '| key | environment variable | type | default | meaning |',
    '|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
