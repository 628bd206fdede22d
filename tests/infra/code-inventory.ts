import { readdirSync, readFileSync } from 'node:fs';
import { unitPublishes } from '../../shared/bus/publishers.js';
import { schedules, subscriptions, topicSchemas } from '../../shared/bus/topics.js';
import { loadRewrites } from '../../shared/runtime/rewrites.js';
import { secretSpecs } from '../../shared/secrets/secrets.js';

/** What the code declares about its own deployment: the side tests/infra holds Terraform against. */
export interface CodeInventory {
  /** unit → served over HTTP (edge route or http() registration), topics it consumes. */
  units: Map<string, { http: boolean; consumes: string[] }>;
  topics: string[];
  /** unit → topics its code publishes to (the outbox relay of a deployed unit drains only these). */
  publishes: Record<string, string[]>;
  subscriptions: Array<{ topic: string; unit: string }>;
  schedules: Array<{ topic: string; cron: string }>;
  secrets: string[];
  /** Env variables of shared/config/config.ts that name a bucket. */
  bucketEnvs: string[];
  /** Every env variable read: the config schema, MIGRATE_ON_START (the platform), NODE_OPTIONS (Node). */
  envNames: string[];
}

const root = new URL('../../', import.meta.url);
const REGISTRATION = /\b(http|cloudEvent)\(\s*'([a-z0-9-]+)'/g;

/** `http('<unit>'` / `cloudEvent('<unit>'` in each functions/<unit>/index.ts. */
export function registrations(): Array<{ unit: string; kind: 'http' | 'cloudEvent' }> {
  const found: Array<{ unit: string; kind: 'http' | 'cloudEvent' }> = [];
  for (const dir of readdirSync(new URL('functions/', root))) {
    let source: string;
    try {
      source = readFileSync(new URL(`functions/${dir}/index.ts`, root), 'utf8');
    } catch {
      continue;
    }
    for (const match of source.matchAll(REGISTRATION)) {
      found.push({ unit: match[2] as string, kind: match[1] as 'http' | 'cloudEvent' });
    }
  }
  return found;
}

export function codeInventory(): CodeInventory {
  const units = new Map<string, { http: boolean; consumes: string[] }>();
  const unit = (name: string) => {
    let entry = units.get(name);
    if (!entry) {
      entry = { http: false, consumes: [] };
      units.set(name, entry);
    }
    return entry;
  };
  for (const rewrite of loadRewrites()) unit(rewrite.unit).http = true;
  for (const registration of registrations()) {
    const entry = unit(registration.unit);
    if (registration.kind === 'http') entry.http = true;
  }
  for (const subscription of subscriptions) unit(subscription.unit).consumes.push(subscription.topic);

  const configSource = readFileSync(new URL('shared/config/config.ts', root), 'utf8');
  const schema = configSource.slice(configSource.indexOf('const envSchema'));
  const envNames = [...schema.slice(0, schema.indexOf('\n});')).matchAll(/^ {2}([A-Z][A-Z0-9_]+):/gm)].map(
    (m) => m[1] as string,
  );
  return {
    units,
    topics: Object.keys(topicSchemas),
    publishes: Object.fromEntries(Object.entries(unitPublishes).map(([unit, topics]) => [unit, [...topics]])),
    subscriptions: subscriptions.map((s) => ({ topic: s.topic, unit: s.unit })),
    schedules: schedules.map((s) => ({ topic: s.topic, cron: s.cron })),
    secrets: Object.keys(secretSpecs),
    bucketEnvs: envNames.filter((name) => name.endsWith('_BUCKET')),
    envNames: [...envNames, 'MIGRATE_ON_START', 'NODE_OPTIONS'],
  };
}
