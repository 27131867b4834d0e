import fs from 'node:fs';
import path from 'node:path';
import type { Middleware } from 'koa';
import { AppError } from '../../errors/app-error.ts';

const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.map': 'application/json' };

function decodePathPart(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new AppError('NOT_FOUND', 'No such widget file');
  }
}

/**
 * GET /widget/*: the built widget. The loader is revalidated often (its name is fixed); chunks have a
 * content hash in their names, so they are cached for a year.
 */
export function serveWidgetAssets(distDir: string): Middleware {
  return async (ctx, next) => {
    if (!ctx.path.startsWith('/widget/') || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    const relative = decodePathPart(ctx.path.slice('/widget/'.length));
    const absolute = path.resolve(distDir, relative);
    if (!absolute.startsWith(distDir + path.sep)) throw new AppError('NOT_FOUND', 'No such widget file');
    const stat = await fs.promises.stat(absolute).catch(() => undefined);
    if (!stat?.isFile()) throw new AppError('NOT_FOUND', `No widget file ${relative}${fs.existsSync(distDir) ? '' : ' (the widget is not built: run pnpm build)'}`);
    const hashed = /-[A-Za-z0-9_-]{8,}\.(js|css)$/.test(relative);
    ctx.set('Cache-Control', hashed ? 'public, max-age=31536000, immutable' : 'public, max-age=300, must-revalidate');
    ctx.set('Access-Control-Allow-Origin', '*');
    ctx.set('Cross-Origin-Resource-Policy', 'cross-origin');
    ctx.type = TYPES[path.extname(absolute)] ?? 'application/octet-stream';
    ctx.length = stat.size;
    ctx.lastModified = stat.mtime;
    if (ctx.fresh) {
      ctx.status = 304;
      return;
    }
    ctx.body = fs.createReadStream(absolute);
  };
}
