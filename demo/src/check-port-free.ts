import net from 'node:net';

/** Resolves when `host:port` can be listened on; otherwise rejects naming the variable that sets it. */
export function checkPortFree(host: string, port: number, variable: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => {
      const reason = error.code === 'EADDRINUSE' ? 'is already in use' : `cannot be used (${error.code ?? error.message})`;
      reject(new Error(`port ${port} on ${host} ${reason}. Pick another one, e.g. ${variable}=${port + 1} npm run demo`));
    });
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}
