import { redact } from './secrets.js';

// stdout carries the MCP protocol, so everything meant for people goes to stderr.
export function log(message: string): void {
  process.stderr.write(`sinch-groups-mcp: ${redact(message)}\n`);
}
