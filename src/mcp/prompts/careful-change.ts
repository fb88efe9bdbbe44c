import { completable } from '@modelcontextprotocol/sdk/server/completable.js';
import * as z from 'zod';
import { GroupId } from '../../sinch/schemas.js';
import type { PromptDefinition } from '../prompt.js';
import { completeGroupId, groupUri, membersUri } from '../resources/groups.js';

/** Walks an assistant through a membership change the user can see and approve before it happens. */
export const carefulChangePrompt: PromptDefinition = {
  requires: 'update_group',
  register: (server, sinch) =>
    server.registerPrompt(
      'careful_membership_change',
      {
        title: 'Careful membership change',
        description: 'Change who is in an SMS group: read it, preview the change, show the user, and apply only what they approved.',
        argsSchema: {
          group_id: completable(GroupId.describe('The group to change.'), (typed) => completeGroupId(sinch, typed)),
          change: z.string().describe('The change in plain words, e.g. "add +14155550123 and remove everyone in group X".'),
        },
      },
      ({ group_id, change }) => ({
        messages: [
          {
            role: 'user',
            content: {
              type: 'text',
              text: [
                `I want to change SMS group ${group_id}: ${change}`,
                '',
                `1. Read ${groupUri(group_id)} and note its modified_at. To check particular numbers use list_group_members with contains; read ${membersUri(group_id)} only if you need every member.`,
                '2. Work out the exact update_group arguments (add, remove, add_from_group, remove_from_group, name or remove_name). Numbers are in international format, e.g. +14155550123.',
                '3. Call update_group with those arguments, dry_run: true and expected_modified_at.',
                '4. Show me the preview: who would be added, who removed, the size before and after, any name change. Then stop and wait for my answer.',
                '5. Only if I approve, call update_group with the same arguments and expected_modified_at, without dry_run and with confirm: true, and tell me the result. If it says the group changed since you read it, start again from step 1.',
              ].join('\n'),
            },
          },
        ],
      }),
    ),
};
