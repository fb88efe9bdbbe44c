import type { Readable, Writable } from 'node:stream';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, JSONRPCMessageSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { loadConfig, loadFileSettings, loadJournalSettings, loadMaxBodyBytes, loadNumberSettings, loadToolSelection, type ToolFlags } from '../config.js';
import { openJournal } from '../journal/open.js';
import { log } from '../log.js';
import { describeUnfinished } from '../mcp/errors.js';
import { ToolCalls } from '../mcp/calls.js';
import { createServer } from '../mcp/server.js';
import { selectTools } from '../mcp/tool-selection.js';
import { tools } from '../mcp/tools/index.js';
import { configureNumbers } from '../sinch/numbers.js';
import { openBackend } from '../backend.js';
import { stopOnSignals } from './shutdown.js';

/** How long a stopping server waits for tool calls under way, then for the changes it stopped: a desktop
 * client that closes stdin waits a few seconds before it kills the process. */
const SHUTDOWN_GRACE_MS = 2_000;
const STOP_WAIT_MS = 1_000;

/** Serves MCP on stdio, against Sinch when credentials are set and on the built-in emulator otherwise. */
export async function serveStdio({ files: fileFolders, ...flags }: ToolFlags & { files?: string[] }): Promise<void> {
  // stdout carries only protocol messages, whatever a dependency might print.
  console.log = console.info = console.debug = console.error;

  const selection = loadToolSelection(flags);
  const toolSets = selectTools(tools, selection);
  const config = loadConfig();
  configureNumbers(loadNumberSettings(process.env, { emulated: config.mode === 'emulator' }));
  const maxLineBytes = loadMaxBodyBytes();
  const files = loadFileSettings({ files: fileFolders });
  const journalSettings = loadJournalSettings();
  if (config.mode === 'per-request') throw new Error('per-request credentials need the HTTP mode');
  const backend = await openBackend(config);
  const { sinch } = backend;
  const calls = new ToolCalls();
  const journal = openJournal(journalSettings);
  const server = createServer({ sinch, tools: toolSets, readOnly: selection.readOnly, emulated: backend.emulated, calls, files, journal });
  // Lines that are too long, not JSON or not JSON-RPC are answered by the transport itself.
  const transport = new StdioTransport({ maxLineBytes });
  transport.onerror = (error) => log(`stdio: ${error.message}`);

  const stop = stopOnSignals(calls, {
    graceMs: SHUTDOWN_GRACE_MS,
    stopMs: STOP_WAIT_MS,
    async close(drained, why) {
      process.stdin.pause();
      // Calls still running after the grace period stop before their next request and answer with what
      // they applied (on stdout, if the client still reads it, and on stderr); a request Sinch has not
      // answered by the end is reported as such.
      await drained;
      const unfinished = await sinch.settle(0);
      for (const progress of unfinished) log(`${why} before a change was complete: ${describeUnfinished(progress)}`);
      await server.close();
      await backend.close();
    },
  });
  process.stdin.on('end', () => stop('stdin closed'));
  await server.connect(transport);
}

export interface StdioTransportOptions {
  /** The longest line read, in bytes, its line ending aside; a longer one is refused and skipped. */
  maxLineBytes: number;
  input?: Readable;
  output?: Writable;
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * MCP over newline-delimited JSON on stdin and stdout. Unlike the SDK's StdioServerTransport, which closes
 * for good on a line over 10 MiB, a line that is too long, not JSON or not JSON-RPC gets a JSON-RPC error
 * and the server reads on; a long line is skipped as it arrives, never held in memory whole.
 */
export class StdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  private readonly maxLineBytes: number;
  private readonly input: Readable;
  private readonly output: Writable;
  private line: Buffer[] = [];
  private lineBytes = 0;
  /** The line under way was refused for its length; its bytes are dropped up to its newline. */
  private skipping = false;
  private started = false;

  constructor({ maxLineBytes, input = process.stdin, output = process.stdout }: StdioTransportOptions) {
    this.maxLineBytes = maxLineBytes;
    this.input = input;
    this.output = output;
  }

  async start(): Promise<void> {
    if (this.started) throw new Error('StdioTransport already started');
    this.started = true;
    this.input.on('data', this.onData);
    this.input.on('error', this.onInputError);
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (this.output.write(`${JSON.stringify(message)}\n`)) return;
    await new Promise<void>((resolve) => this.output.once('drain', resolve));
  }

  async close(): Promise<void> {
    this.input.off('data', this.onData);
    this.input.off('error', this.onInputError);
    if (this.input.listenerCount('data') === 0) this.input.pause();
    this.line = [];
    this.lineBytes = 0;
    this.onclose?.();
  }

  private readonly onInputError = (error: Error) => this.onerror?.(error);

  private readonly onData = (chunk: Buffer | string) => {
    let data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    while (data.length > 0) {
      const end = data.indexOf(NEWLINE);
      const part = end === -1 ? data : data.subarray(0, end);
      if (!this.skipping) this.collect(part);
      if (end === -1) return;
      data = data.subarray(end + 1);
      if (this.skipping) this.skipping = false;
      else this.finishLine();
    }
  };

  private collect(part: Buffer): void {
    this.lineBytes += part.length;
    // One byte over the limit may yet be the \r of a \r\n ending; more than that cannot be.
    if (this.lineBytes > this.maxLineBytes + 1) {
      this.line = [];
      this.lineBytes = 0;
      this.skipping = true;
      return this.refuseLong();
    }
    this.line.push(part);
  }

  private finishLine(): void {
    let bytes = Buffer.concat(this.line, this.lineBytes);
    this.line = [];
    this.lineBytes = 0;
    if (bytes.at(-1) === CARRIAGE_RETURN) bytes = bytes.subarray(0, -1);
    if (bytes.length > this.maxLineBytes) return this.refuseLong();
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch {
      return this.refuse(ErrorCode.ParseError, 'Parse error: the line is not JSON');
    }
    const message = JSONRPCMessageSchema.safeParse(json);
    if (!message.success) return this.refuse(ErrorCode.InvalidRequest, 'Invalid Request: not a JSON-RPC message');
    this.onmessage?.(message.data);
  }

  private refuseLong(): void {
    this.refuse(
      ErrorCode.InvalidRequest,
      `Invalid Request: the line is longer than ${this.maxLineBytes} bytes (MCP_MAX_BODY_BYTES) and was skipped`,
    );
  }

  /** The error is for a message whose id could not be read, hence id null, which the SDK's types do not allow. */
  private refuse(code: ErrorCode, message: string): void {
    this.send({ jsonrpc: '2.0', id: null, error: { code, message } } as unknown as JSONRPCMessage).catch((error: Error) => this.onerror?.(error));
  }
}
