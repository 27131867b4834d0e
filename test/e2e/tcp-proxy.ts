import net from 'node:net';

/** A TCP proxy in front of the server whose connections a test can cut, like a network drop. */
export interface TcpProxy {
  url: string;
  /** Destroys every open connection and refuses new ones for `refuseMs`. */
  drop(refuseMs?: number): void;
  /** How many connections were cut so far. */
  readonly dropped: number;
  close(): Promise<void>;
}

/** Starts a proxy on a free port of 127.0.0.1 that forwards to `target` (`http://127.0.0.1:PORT`). */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<net.Socket>();
  let refuseUntil = 0;
  let dropped = 0;
  const server = net.createServer((client) => {
    if (Date.now() < refuseUntil) {
      client.destroy();
      return;
    }
    const upstream = net.connect(Number(port), hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    drop(refuseMs = 0) {
      refuseUntil = Date.now() + refuseMs;
      dropped += sockets.size;
      for (const socket of sockets) socket.destroy();
    },
    get dropped() {
      return dropped;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
