import fc from 'fast-check';
import { describe, expect } from 'vitest';
import { tools } from '../src/mcp/tools/index.js';
import { groupsPath, test, textOf } from './harness.js';

// Random and adversarial arguments for every tool. Whatever comes in, the answer is a clear refusal or
// a correct result, and nothing malformed, and nothing outside /groups, ever reaches Sinch.
// The seed is fixed so CI runs the same cases every time; FC_SEED explores others locally.
const SEED = Number(process.env.FC_SEED ?? 20261123);
const RUNS = 150;

let target: string | undefined;

const PATH_TRICKS = ['../x', '..', '%2F', 'a%2Fb', 'a/b', '?page=1', '#x', 'a b', '', ' ', '__proto__', 'constructor', 'x'.repeat(100_000)];
const NUMBER_TRICKS = ['+1', '', '++14155550100', '+1 415 555 0100\n', '\u0000', '+1\u202e4155550100', '0044', 'x'.repeat(100_000), '+99912345678'];

const hostileString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom(...PATH_TRICKS, ...NUMBER_TRICKS),
  fc.stringMatching(/^[A-Za-z0-9]{1,30}$/),
);
const phoneNumber = fc.integer({ min: 2_000_000, max: 9_999_999 }).map((n) => `+1415${n}`);
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.anything(),
  fc.array(fc.oneof(phoneNumber, hostileString), { maxLength: 30 }),
  fc.constant(JSON.parse('{"__proto__": {"polluted": true}}')),
);

/** Arguments for a tool: sometimes its own field names with hostile values, sometimes anything at all. */
function argumentsFor(fields: string[]): fc.Arbitrary<Record<string, unknown>> {
  const named = fc.record(
    Object.fromEntries(fields.map((field) => [field, fc.oneof(hostileValue, fc.constant(undefined))])),
    { requiredKeys: [] },
  );
  const anything = fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', 'group_id')), hostileValue, { maxKeys: 5 });
  return fc.oneof(named, anything) as fc.Arbitrary<Record<string, unknown>>;
}

describe('hostile tool input', () => {
  // Every argument each tool takes, from its own schema, so a new argument is attacked too.
  test.for(tools.map((tool) => [tool.name, Object.keys(tool.inputSchema.shape)] as const))('%s refuses or answers correctly, and sends only well-formed requests under /groups', async ([tool, fields], { shared: h }) => {
    const groupId = (target ??= (await h.ok<{ id: string }>('create_group', { name: 'Target', members: ['+14155550100'] })).id);
    const allowedPath = new RegExp(`^${groupsPath(h.emulator)}(/[A-Za-z0-9]{1,64}(/members)?)?$`);
    await fc.assert(
      fc.asyncProperty(argumentsFor(fields), fc.boolean(), async (args, aimAtTarget) => {
        const before = h.emulator.requests.length;
        const call = aimAtTarget && 'group_id' in args ? { ...args, group_id: groupId } : args;
        const result = await h.call(tool, call);
        const text = textOf(result);
        expect(text.length).toBeGreaterThan(0);
        if (result.isError) {
          expect(result.structuredContent).toBeUndefined();
          // A 400 from Sinch would mean we let a malformed request through.
          expect(text).not.toMatch(/HTTP 400/);
        } else {
          expect(result.structuredContent).toBeTypeOf('object');
        }
        for (const request of h.emulator.requests.slice(before)) {
          expect(request.path).toMatch(allowedPath);
          if (request.rawBody !== '') expect(() => JSON.parse(request.rawBody)).not.toThrow();
        }
        // Never more than a read, a preview's reads and the change itself; a search across groups reads
        // each group once and changes each at most once.
        const everywhere = tool === 'find_numbers' || tool === 'remove_numbers_everywhere' ? 2 * h.emulator.store.list(0, 1).count : 0;
        expect(h.emulator.requests.length - before).toBeLessThanOrEqual(6 + everywhere);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    expect(Object.prototype).not.toHaveProperty('polluted');
  });
});
