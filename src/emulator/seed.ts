import type { Emulator } from './server.js';
import type { Group } from './store.js';

// Numbers from ranges reserved for fiction (NANP 555-01xx, Ofcom 07700 900xxx, PTS 070-17406xx,
// ACMA 0491 570xxx), so a demo can never text a real person.
const VIP_CUSTOMERS = ['+14155550123', '+447700900123', '+46701740605', '+61491570156', '+14155550178'];
const NEWSLETTER = ['+14155550123', '+447700900456', '+46701740642'];

/** Two example groups, created straight in the store so the request log stays empty. */
export function seedExampleGroups(emulator: Pick<Emulator, 'store'>): Group[] {
  return [
    emulator.store.create({ name: 'VIP customers', members: VIP_CUSTOMERS }),
    emulator.store.create({ name: 'Newsletter', members: NEWSLETTER }),
  ];
}
