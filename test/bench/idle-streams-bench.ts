/**
 * Idle streams benchmark (issue 12): the server's RSS (read from /proc) holding 10,000 open SSE streams of
 * tasks that wait for an approval, against a bare Node HTTP server holding as many idle SSE responses in
 * the same run. Goal: under 256 MB for Concierge.
 *
 *   node --import tsx test/bench/idle-streams-bench.ts [--streams 10000]
 *
 * Memory is machine-dependent: the figures inform, they never fail a build.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { createApiClient } from '../support/api-client.ts';
import { processRssBytes } from '../support/process-rss.ts';
import { findFreePort, REPO_ROOT, spawnConcierge } from '../support/spawn-concierge.ts';

const argument = process.argv.indexOf('--streams');
const STREAMS = argument > 0 ? Number(process.argv[argument + 1]) : 10_000;
const TASKS = 100;
const MB = 1024 * 1024;

/** Opens `count` raw SSE requests (spread over `paths`) and resolves once each has its response head. */
async function openIdle(port: number, paths: string[], headers: string, count: number): Promise<net.Socket[]> {
  const sockets: net.Socket[] = [];
  const batch = 200;
  for (let start = 0; start < count; start += batch) {
    const opened = await Promise.all(
      Array.from({ length: Math.min(batch, count - start) }, (_, offset) => {
        const socket = net.connect(port, '127.0.0.1');
        socket.on('error', () => {});
        return new Promise<net.Socket>((resolve, reject) => {
          socket.once('connect', () => socket.write(`GET ${paths[(start + offset) % paths.length]} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}\r\n`));
          socket.once('data', () => resolve(socket));
          socket.once('close', () => reject(new Error('stream closed before its head')));
        });
      }),
    );
    sockets.push(...opened);
  }
  return sockets;
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 2_000));

async function bareRelay(): Promise<{ idle: number; held: number }> {
  const port = await findFreePort();
  const source = `require('node:http').createServer((q,s)=>{s.writeHead(200,{'content-type':'text/event-stream'});s.write(': open\\n\\n');const t=setInterval(()=>s.write(': ping\\n\\n'),15000);s.on('close',()=>clearInterval(t));}).listen(${port},'127.0.0.1',()=>console.log('ready'))`;
  const child = spawn(process.execPath, ['-e', source], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
  await settle();
  const idle = processRssBytes(child.pid);
  const sockets = await openIdle(port, ['/'], '', STREAMS);
  await settle();
  const held = processRssBytes(child.pid);
  for (const socket of sockets) socket.destroy();
  child.kill();
  return { idle, held };
}

async function concierge(): Promise<{ idle: number; held: number }> {
  const server = await spawnConcierge({
    env: {
      CONCIERGE_MODEL: 'scripted:fast',
      LOG_LEVEL: 'warn',
      CONCIERGE_MAX_STREAMS_PER_TASK: String(STREAMS),
      CONCIERGE_MAX_STREAMS_PER_PRINCIPAL: String(STREAMS),
      CONCIERGE_MAX_CONNECTIONS: String(STREAMS + 100),
      CONCIERGE_MAX_CONNECTIONS_PER_IP: String(STREAMS + 100),
    },
  });
  try {
    const { key } = await server.createApiKey();
    const api = createApiClient(server.url, key);
    // Tasks that wait for an approval: their streams stay open, idle but for heartbeats.
    const ids: string[] = [];
    for (let index = 0; index < TASKS; index++) ids.push(await api.createTask({ message: 'write a report', autoExecute: false }));
    for (const id of ids) await api.waitForStatus(id, 'awaiting_approval', 30_000);
    await settle();
    const idle = processRssBytes(server.process.pid);
    const sockets = await openIdle(Number(new URL(server.url).port), ids.map((id) => `/api/v1/tasks/${id}/stream`), `Authorization: Bearer ${key}\r\n`, STREAMS);
    await settle();
    const held = processRssBytes(server.process.pid);
    for (const socket of sockets) socket.destroy();
    return { idle, held };
  } finally {
    await server.stop();
  }
}

const relay = await bareRelay();
const ours = await concierge();
const row = (name: string, figures: { idle: number; held: number }) =>
  `| ${name} | ${(figures.idle / MB).toFixed(0)} MB | ${(figures.held / MB).toFixed(0)} MB | ${((figures.held - figures.idle) / STREAMS / 1024).toFixed(1)} KB |`;
console.log(`Idle streams benchmark: ${STREAMS} open SSE streams (Node ${process.version})`);
console.log('| | RSS idle | RSS with the streams | per stream |');
console.log('|---|---|---|---|');
console.log(row('bare Node SSE server', relay));
console.log(row(`Concierge (${TASKS} tasks awaiting approval)`, ours));
console.log(`Goal: Concierge under 256 MB with the streams open: ${ours.held < 256 * MB ? 'met' : 'not met'}`);
