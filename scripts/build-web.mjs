// `npm run build:web`, and the postinstall step that lets `npm install` alone
// produce the dashboard (web/dist). Vite is a devDependency: an install
// without dev dependencies skips the build with a note instead of failing,
// and `envoi up` then says at `/` how to build it.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
try {
  require.resolve('vite/package.json', { paths: [root] });
} catch {
  console.warn('envoi: vite is not installed (dev dependencies omitted?): the dashboard was not built; run `npm install` then `npm run build:web`.');
  process.exit(process.argv.includes('--optional') ? 0 : 1);
}
const { build } = await import('vite');
await build({ configFile: path.join(root, 'web', 'vite.config.ts') });
console.log('envoi: dashboard built into web/dist');
