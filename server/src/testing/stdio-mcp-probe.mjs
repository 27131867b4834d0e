// A dependency-free stdio MCP server for tests (run as `node -e <this source>`): its tools report what the
// process can see and reach, so a test can tell whether it runs inside the task's sandbox.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import readline from 'node:readline';

const tools = [
  { name: 'whoami', description: 'uid, gid, hostname and cwd of the server process', inputSchema: { type: 'object', properties: {} } },
  { name: 'read_path', description: 'Read a file', inputSchema: { type: 'object', properties: { path: { type: 'string' } }, required: ['path'] } },
  { name: 'connect', description: 'Open a TCP connection to 127.0.0.1', inputSchema: { type: 'object', properties: { port: { type: 'number' } }, required: ['port'] } },
  { name: 'big', description: 'Return this many bytes', inputSchema: { type: 'object', properties: { bytes: { type: 'number' } }, required: ['bytes'] } },
  { name: 'fail', description: 'Answer with a JSON-RPC error', inputSchema: { type: 'object', properties: { message: { type: 'string' } }, required: ['message'] } },
];

const text = (value, isError = false) => ({ content: [{ type: 'text', text: value }], ...(isError ? { isError: true } : {}) });

function connect(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(text('connect: timed out', true));
    }, 3000);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.end('hello from the MCP server\n');
      resolve(text('connected'));
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      resolve(text(`connect: ${error.code}`, true));
    });
  });
}

async function call(name, args) {
  if (name === 'whoami') return text(`uid=${process.getuid()} gid=${process.getgid()} hostname=${os.hostname()} cwd=${process.cwd()}`);
  if (name === 'read_path') {
    try {
      return text(fs.readFileSync(args.path, 'utf8'));
    } catch (error) {
      return text(`read_path: ${error.code}`, true);
    }
  }
  if (name === 'connect') return connect(args.port);
  if (name === 'big') return text('x'.repeat(args.bytes));
  if (name === 'fail') throw Object.assign(new Error(args.message), { code: -32000 });
  throw Object.assign(new Error(`unknown tool ${name}`), { code: -32602 });
}

const send = (message) => process.stdout.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`);

process.stderr.write(`probe starting, token=${process.env.PROBE_TOKEN ?? 'none'}\n`);
for (let line = 0; line < Number(process.env.PROBE_STDERR_LINES ?? 0); line++) process.stderr.write(`probe noise line ${line}\n`);
// Answer nothing until every stderr line has left this process, so a test can count them all.
await new Promise((resolve) => process.stderr.write('', resolve));

readline.createInterface({ input: process.stdin }).on('line', async (line) => {
  const message = JSON.parse(line);
  if (message.id === undefined) return;
  try {
    if (message.method === 'initialize') {
      send({ id: message.id, result: { protocolVersion: message.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'probe', version: '1.0.0' } } });
    } else if (message.method === 'tools/list') {
      send({ id: message.id, result: { tools } });
    } else if (message.method === 'tools/call') {
      send({ id: message.id, result: await call(message.params.name, message.params.arguments ?? {}) });
    } else if (message.method === 'ping') {
      send({ id: message.id, result: {} });
    } else {
      send({ id: message.id, error: { code: -32601, message: `no method ${message.method}` } });
    }
  } catch (error) {
    send({ id: message.id, error: { code: error.code ?? -32000, message: error.message } });
  }
});
