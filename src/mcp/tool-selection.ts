import type { ToolDefinition } from './tool.js';

/** --tools/SINCH_TOOLS or --read-only/SINCH_READ_ONLY name no tool the server could offer. */
export class ToolSelectionError extends Error {
  override readonly name = 'ToolSelectionError';
}

export interface ToolSelection {
  /** Only tools whose readOnlyHint is true; wins over `only`. */
  readOnly?: boolean;
  /** Only these tools, by name. */
  only?: readonly string[];
}

/** Chosen between for each session, so both are made once, at start-up. */
export interface ToolSets {
  /** The tools `only` names, or every tool. */
  all: readonly ToolDefinition[];
  /** Those of them that change nothing. */
  readOnly: readonly ToolDefinition[];
}

/** The tools a server may offer; a name that is not a tool is a configuration mistake, not something to ignore. */
export function selectTools(tools: readonly ToolDefinition[], { readOnly = false, only }: ToolSelection): ToolSets {
  const names = new Set(tools.map((tool) => tool.name));
  const unknown = only?.filter((name) => !names.has(name)) ?? [];
  if (unknown.length > 0) {
    throw new ToolSelectionError(
      `unknown tool ${unknown.map((name) => `"${name}"`).join(', ')} in --tools/SINCH_TOOLS; the tools are ${[...names].join(', ')}`,
    );
  }
  if (only?.length === 0) throw new ToolSelectionError('--tools/SINCH_TOOLS names no tool');
  const all = tools.filter((tool) => !only || only.includes(tool.name));
  const sets = { all, readOnly: all.filter((tool) => tool.annotations.readOnlyHint) };
  if (readOnly && sets.readOnly.length === 0) {
    throw new ToolSelectionError('--read-only/SINCH_READ_ONLY leaves none of the tools named in --tools/SINCH_TOOLS');
  }
  return sets;
}
