#!/usr/bin/env node
// The `envoi` command. envoi ships TypeScript and runs it through tsx's loader,
// so there is no build step between `npm install` and `envoi up`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
await main(process.argv);
