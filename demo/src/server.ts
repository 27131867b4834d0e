/**
 * The Northwind shop's backend, as a site owner would run it:
 *   CONCIERGE_URL=http://127.0.0.1:8787 CONCIERGE_APP_ID=… CONCIERGE_APP_SECRET=… node --import tsx demo/src/server.ts
 * `npm run demo` at the repository root starts it for you with credentials it created.
 */
import path from 'node:path';
import { createDemoServer } from './create-demo-server.ts';
import { DEMO_USER } from './demo-user.ts';

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    process.stderr.write(`demo: ${name} is not set (see demo/README.md; \`npm run demo\` sets it for you)\n`);
    process.exit(1);
  }
  return value;
}

const conciergeUrl = required('CONCIERGE_URL').replace(/\/+$/, '');
const port = Number(process.env.DEMO_PORT || 3000);
const host = process.env.DEMO_HOST || '127.0.0.1';
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  process.stderr.write(`demo: DEMO_PORT must be a port number, got "${process.env.DEMO_PORT}"\n`);
  process.exit(1);
}

const server = createDemoServer({
  conciergeUrl,
  appId: required('CONCIERGE_APP_ID'),
  appSecret: required('CONCIERGE_APP_SECRET'),
  user: DEMO_USER,
  publicDir: path.join(import.meta.dirname, '../public'),
  onError: (error) => process.stderr.write(`demo: ${error instanceof Error ? error.message : String(error)}\n`),
});

server.listen(port, host, () => {
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  process.stdout.write(`demo: Northwind help centre on http://${host === '127.0.0.1' ? 'localhost' : host}:${actualPort} (Concierge at ${conciergeUrl})\n`);
});

const stop = (): void => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
