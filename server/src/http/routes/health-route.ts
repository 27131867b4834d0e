import Router from '@koa/router';

export interface HealthReport {
  status: 'ok' | 'unavailable';
  db: string;
  sandbox: unknown;
  model: unknown;
  [key: string]: unknown;
}

/** GET /healthz: readiness with what this host enforces; 503 when not ready. */
export function createHealthRouter(check: () => Promise<HealthReport>) {
  const router = new Router();
  router.get('/healthz', async (ctx) => {
    const report = await check();
    ctx.status = report.status === 'ok' ? 200 : 503;
    ctx.set('Cache-Control', 'no-store');
    ctx.body = report;
  });
  return router;
}
