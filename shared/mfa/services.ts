import type { KeyRing } from '../crypto/seal.js';
import type { Db } from '../db/connect.js';
import { MfaService } from './service.js';
import { MfaStore } from './store.js';

/** The mfa domain as the runtime wires it. */
export function createMfaService(deps: { db: Db; keys: () => Promise<KeyRing> }): MfaService {
  return new MfaService({ store: new MfaStore(deps.db), keys: deps.keys });
}
