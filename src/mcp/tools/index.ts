import createGroup from './create-group.js';
import deleteGroup from './delete-group.js';
import exportGroupMembers from './export-group-members.js';
import findNumbers from './find-numbers.js';
import getGroup from './get-group.js';
import listGroupMembers from './list-group-members.js';
import listChanges from './list-changes.js';
import listGroups from './list-groups.js';
import removeNumbersEverywhere from './remove-numbers-everywhere.js';
import replaceGroup from './replace-group.js';
import undoChange from './undo-change.js';
import updateGroup from './update-group.js';
import type { ToolDefinition } from '../tool.js';

export const tools: readonly ToolDefinition[] = [
  createGroup,
  listGroups,
  getGroup,
  listGroupMembers,
  findNumbers,
  updateGroup,
  replaceGroup,
  deleteGroup,
  removeNumbersEverywhere,
  exportGroupMembers,
  listChanges,
  undoChange,
];
