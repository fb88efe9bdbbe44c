import type { Readable, Writable } from 'node:stream';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, JSONRPCMessageSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

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
