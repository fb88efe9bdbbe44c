import { PassThrough } from 'node:stream';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect } from 'vitest';
import { StdioTransport } from '../src/transports/stdio.js';
import { test, type Fixtures } from './harness.js';

/** The transport between two streams: what it passes on as messages, and what it writes back. */
async function start(defer: Fixtures['defer'], maxLineBytes: number) {
  const input = new PassThrough();
  const output = new PassThrough();
  const transport = new StdioTransport({ maxLineBytes, input, output });
  const messages: JSONRPCMessage[] = [];
  const errors: Error[] = [];
  let written = '';
  output.on('data', (chunk: Buffer) => (written += chunk.toString()));
  transport.onmessage = (message) => void messages.push(message);
  transport.onerror = (error) => void errors.push(error);
  await transport.start();
  defer(() => transport.close());
  return {
    transport,
    messages,
    errors,
    write: (data: string | Buffer) => input.write(data),
    replies: () => written.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

const ping = (id: number) => `${JSON.stringify({ jsonrpc: '2.0', id, method: 'ping' })}\n`;
const settled = () => new Promise((resolve) => setImmediate(resolve));

describe('the stdio transport', () => {
  test('reads messages however the lines are cut into chunks, multi-byte characters included', async ({ defer }) => {
    const { write, messages, replies } = await start(defer, 1_000);
    const text = `${ping(1)}${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { text: 'Zoë ✓' } })}\n${ping(3)}`;
    for (const byte of Buffer.from(text)) write(Buffer.from([byte]));
    await settled();
    expect(messages).toEqual([
      { jsonrpc: '2.0', id: 1, method: 'ping' },
      { jsonrpc: '2.0', method: 'notifications/message', params: { text: 'Zoë ✓' } },
      { jsonrpc: '2.0', id: 3, method: 'ping' },
    ]);
    expect(replies()).toEqual([]);
  });

  test('a long line is refused as soon as it passes the limit, before it ends, and only once', async ({ defer }) => {
    const { write, messages, replies } = await start(defer, 100);
    write(ping(1));
    write(`{"jsonrpc":"2.0","id":2,"method":"ping","params":{"pad":"${'x'.repeat(150)}`);
    await settled();
    expect(replies()).toEqual([
      { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Invalid Request: the line is longer than 100 bytes (MCP_MAX_BODY_BYTES) and was skipped' } },
    ]);
    for (let i = 0; i < 50; i++) write('x'.repeat(1_000));
    write(`"}}\n${ping(3)}`);
    await settled();
    expect(messages).toEqual([{ jsonrpc: '2.0', id: 1, method: 'ping' }, { jsonrpc: '2.0', id: 3, method: 'ping' }]);
    expect(replies()).toHaveLength(1);
  });

  test('a line of exactly the limit is read, with \n or \r\n; one byte more is refused', async ({ defer }) => {
    const { write, messages, replies } = await start(defer, 40);
    const line = (id: number, size: number) => {
      const base = `{"jsonrpc":"2.0","id":${id},"method":"ping"}`;
      return `${base.slice(0, -1)}${' '.repeat(size - base.length)}}`;
    };
    write(`${line(1, 40)}\n${line(2, 40)}\r\n${line(3, 41)}\n${line(4, 41)}\r\n${ping(5)}`);
    await settled();
    expect(messages.map((message) => (message as { id: number }).id)).toEqual([1, 2, 5]);
    expect(replies().map((reply) => (reply.error as { code: number }).code)).toEqual([-32600, -32600]);
  });

  test('lines that are not JSON or not JSON-RPC get ParseError and InvalidRequest', async ({ defer }) => {
    const { write, messages, replies, errors } = await start(defer, 1_000);
    write(`not json\n{"hello":"world"}\n${ping(1)}`);
    await settled();
    expect(replies()).toEqual([
      { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error: the line is not JSON' } },
      { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Invalid Request: not a JSON-RPC message' } },
    ]);
    expect(messages).toEqual([{ jsonrpc: '2.0', id: 1, method: 'ping' }]);
    expect(errors).toEqual([]);
  });

  test('after close nothing more is read', async ({ defer }) => {
    const { transport, write, messages } = await start(defer, 1_000);
    let closed = false;
    transport.onclose = () => (closed = true);
    await transport.close();
    write(ping(1));
    await settled();
    expect(closed).toBe(true);
    expect(messages).toEqual([]);
  });
});
