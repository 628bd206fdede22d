import { z } from 'zod';
import { defineRoute, json } from '../../../shared/http/route.js';
import type { LoginUnitDeps } from '../deps.js';

export const providersView = z.object({
  firebase: z
    .object({
      apiKey: z.string(),
      providers: z.array(z.enum(['google.com', 'github.com'])),
    })
    .nullable(),
});

export const signInProviders = defineRoute({
  method: 'GET',
  path: '/api/login/providers',
  summary:
    "Which third-party sign-ins the console offers. `firebase` is null unless Firebase is configured (FIREBASE_PROJECT_ID or GOOGLE_CLOUD_PROJECT, and FIREBASE_WEB_API_KEY); otherwise it carries the project's Web API key (public by design) and the providers, for Firebase Auth's REST sign-in whose ID token then goes to POST /api/login/oauth.",
  tags: ['login'],
  auth: { kind: 'none' },
  responses: { 200: { description: 'The sign-in providers', schema: providersView } },
  handler: async (_ctx, deps: LoginUnitDeps) => json(200, { firebase: deps.firebaseWeb }),
});
