import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { SandboxedProcess } from '../sandbox/spawn-sandboxed.ts';

/** Characters kept of one stderr line; the rest of the line is dropped. */
export const MAX_STDERR_LINE_CHARS = 1000;
/** stderr lines passed on per server process; later ones are counted, not logged. */
export const MAX_STDERR_LINES = 200;
// A JSON-RPC message larger than this ends the connection instead of growing the server's memory.
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

/** How to start the server process, and where its stderr lines go (already split and capped). */
export interface SandboxedStdioOptions {
  start(): Promise<SandboxedProcess>;
  onStderrLine(line: string): void;
  /** Called when the first line past `MAX_STDERR_LINES` is dropped (count 0), and at the end with how many were. */
  onStderrDropped?(count: number): void;
}

/**
 * MCP client transport for an stdio server that runs in the task's sandbox: the SDK's
 * `StdioClientTransport` spawns on the host, so this one starts the process through `Sandbox.spawn`.
 */
export class SandboxedStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  private process: SandboxedProcess | undefined;
  private readonly buffer = new ReadBuffer({ maxBufferSize: MAX_MESSAGE_BYTES });
  private closed = false;

  constructor(private readonly options: SandboxedStdioOptions) {}

  async start(): Promise<void> {
    if (this.process) throw new Error('SandboxedStdioTransport already started');
    const child = await this.options.start();
    this.process = child;
    if (this.closed) {
      await child.kill();
      return;
    }
    child.stdout.on('data', (chunk: Buffer) => {
      try {
        this.buffer.append(chunk);
        for (let message = this.buffer.readMessage(); message; message = this.buffer.readMessage()) this.onmessage?.(message);
      } catch (error) {
        this.onerror?.(error instanceof Error ? error : new Error(String(error)));
        void this.close();
      }
    });
    child.stdout.on('error', (error: Error) => this.onerror?.(error));
    this.forwardStderr(child);
    void child.exited.then(() => this.close());
  }

  async send(message: JSONRPCMessage): Promise<void> {
    const stdin = this.process?.stdin;
    if (!stdin || this.closed) throw new Error('Not connected');
    if (!stdin.write(serializeMessage(message))) await new Promise((resolve) => stdin.once('drain', resolve));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.buffer.clear();
    // The server lives for one turn; there is no state worth a graceful shutdown, so stop it at once.
    await this.process?.kill();
    this.onclose?.();
  }

  private forwardStderr(child: SandboxedProcess): void {
    let rest = '';
    let lines = 0;
    let dropped = 0;
    const emit = (line: string) => {
      if (!line.trim()) return;
      if (lines >= MAX_STDERR_LINES) {
        if (dropped === 0) this.options.onStderrDropped?.(0);
        dropped++;
        return;
      }
      lines++;
      this.options.onStderrLine(line.length > MAX_STDERR_LINE_CHARS ? `${line.slice(0, MAX_STDERR_LINE_CHARS)}…` : line);
    };
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop() ?? '';
      // A line with no end in sight is cut, so one endless line cannot grow without bound.
      if (rest.length > MAX_STDERR_LINE_CHARS) {
        emit(rest);
        rest = '';
      }
      for (const part of parts) emit(part);
    });
    child.stderr.on('error', () => undefined);
    child.stderr.on('close', () => {
      emit(rest);
      if (dropped > 0) this.options.onStderrDropped?.(dropped);
    });
  }
}
