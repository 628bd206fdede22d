import { z } from 'zod';
import { BACKUP_CODE_COUNT } from '../../../shared/mfa/model.js';

export const backupCodesView = z.object({ backupCodes: z.array(z.string()).length(BACKUP_CODE_COUNT) });
