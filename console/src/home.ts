import type { Me } from './session';

/** Where each role lands after logging in. */
export const homeFor = (me: Me | null) =>
  !me ? '/login' : me.role === 'merchant' ? '/merchant' : me.role === 'admin' ? '/ops' : '/stores';
