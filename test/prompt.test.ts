import { describe, expect } from 'vitest';
import { number, rpcError, test } from './harness.js';

const INVALID_PARAMS = -32602;
const METHOD_NOT_FOUND = -32601;
const groupUri = (id: string) => `sinch://groups/${id}`;
const membersUri = (id: string) => `sinch://groups/${id}/members`;

describe('the careful_membership_change prompt', () => {
  test('prompts/list offers it with its two required arguments', async ({ h }) => {
    const { prompts } = await h.client.listPrompts();
    expect(prompts.map((p) => p.name)).toEqual(['careful_membership_change']);
    expect(prompts[0]!.title).toBe('Careful membership change');
    expect(prompts[0]!.arguments?.map(({ name, required }) => ({ name, required }))).toEqual([
      { name: 'group_id', required: true },
      { name: 'change', required: true },
    ]);
  });

  test("prompts/get walks through reading the group's resources, a dry run and expected_modified_at", async ({ h }) => {
    const group = h.emulator.store.create({ name: 'Team', members: [number(0)] });
    const result = await h.client.getPrompt({
      name: 'careful_membership_change',
      arguments: { group_id: group.id, change: 'add +14155550123' },
    });
    expect(result.messages).toHaveLength(1);
    const [message] = result.messages;
    expect(message!.role).toBe('user');
    expect(message!.content.type).toBe('text');
    const text = (message!.content as { text: string }).text;
    expect(text.split('\n')[0]).toBe(`I want to change SMS group ${group.id}: add +14155550123`);
    expect(text).toContain(`Read ${groupUri(group.id)} and note its modified_at`);
    expect(text).toContain(membersUri(group.id));
    expect(text).toContain('dry_run: true and expected_modified_at');
    expect(text).toContain('Only if I approve');
    expect(text.match(/^\d\. /gm)).toEqual(['1. ', '2. ', '3. ', '4. ', '5. ']);
  });

  test('an invalid group_id is refused', async ({ h }) => {
    const error = await rpcError(h.client.getPrompt({ name: 'careful_membership_change', arguments: { group_id: '../x', change: 'add' } }));
    expect(error.code).toBe(INVALID_PARAMS);
    expect(error.message).toContain('"../x" is not a group id: ids are letters and digits only (see list_groups)');
    expect(error.message).toContain('group_id');
  });

  test('in read-only mode the prompt is not offered, but the resources and their completion are', async ({ harness }) => {
    const ro = await harness({ readOnly: true });
    const group = ro.emulator.store.create({ name: 'Team', members: [number(0)] });
    expect(ro.client.getServerCapabilities()?.prompts).toBeUndefined();
    expect((await rpcError(ro.client.listPrompts())).code).toBe(METHOD_NOT_FOUND);
    expect((await rpcError(ro.client.getPrompt({ name: 'careful_membership_change', arguments: { group_id: group.id, change: 'x' } }))).code).toBe(
      METHOD_NOT_FOUND,
    );
    expect((await ro.client.readResource({ uri: membersUri(group.id) })).contents).toEqual([
      { uri: membersUri(group.id), mimeType: 'text/plain', text: number(0) },
    ]);
    expect((await ro.client.listResources()).resources.map((r) => r.uri)).toEqual([groupUri(group.id)]);
    expect(
      (await ro.client.complete({ ref: { type: 'ref/resource', uri: 'sinch://groups/{group_id}' }, argument: { name: 'group_id', value: 'te' } }))
        .completion.values,
    ).toEqual([group.id]);
  });

  test('a server without update_group does not offer the prompt either', async ({ harness }) => {
    const only = await harness({ only: ['get_group', 'delete_group'] });
    expect(only.client.getServerCapabilities()?.prompts).toBeUndefined();
  });
});
