import type { SessionWithUser } from '../sessions/store.js';

/** Who is calling: a signed-in user's session. API keys join with the keys feature. */
export type Principal = { type: 'session' } & SessionWithUser;
