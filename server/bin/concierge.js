#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so `node server/bin/concierge.js serve` works without pnpm.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
