import type { AnyRoute } from '../../shared/http/route.js';
import type { Core } from '../../shared/runtime/core.js';
import { currentSession } from './routes/current.js';
import { forgetDevice } from './routes/device-forget.js';
import { trustDevice } from './routes/device-trust.js';
import { listDevices } from './routes/devices-list.js';
import { listSessions } from './routes/list.js';
import { revokeAllSessions } from './routes/revoke-all.js';
import { revokeSession } from './routes/revoke-one.js';
import { revokeOtherSessions } from './routes/revoke-others.js';
import { stepUp } from './routes/step-up.js';
import { stepUpPasskeyOptions } from './routes/step-up-passkey-options.js';
import { revocationStream } from './routes/stream.js';

export const sessionsRoutes: AnyRoute<Core>[] = [
  listSessions,
  currentSession,
  revocationStream,
  listDevices,
  trustDevice,
  forgetDevice,
  revokeOtherSessions,
  revokeAllSessions,
  stepUp,
  stepUpPasskeyOptions,
  revokeSession,
];
