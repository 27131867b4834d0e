import Router from '@koa/router';

export interface HealthReport {
  status: 'ok' | 'unavailable';
  db: string;
  sandbox: unknown;
  model: unknown;
  [key: string]: unknown;
}

/**
 * GET /healthz (the contract's name) and GET /readyz (the name load balancers and Kubernetes expect):
 * readiness with what this host enforces; 503 while the database or the bus is down, or the server drains.
 */
export function createHealthRouter(check: () => Promise<HealthReport>) {
  const router = new Router();
  for (const path of ['/healthz', '/readyz']) {
    router.get(path, async (ctx) => {
      const report = await check();
      ctx.status = report.status === 'ok' ? 200 : 503;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = report;
    });
  }
  return router;
}
