import { existsSync, readFileSync } from 'node:fs';
import type { Block, TerraformModel } from './terraform.js';

/**
 * The Google provider's schema, read offline from the bindings @cdktf/provider-google generates
 * from it (lib/<resource>/index.d.ts; its package.json names the provider version), and a checker
 * that holds infra/*.tf against it: unknown arguments, missing required ones, blocks written as
 * attributes or the other way round, and repeated single blocks. It stands in for `terraform
 * validate`, which needs the provider binary and cannot run here.
 */
export interface BlockSchema {
  attributes: Map<string, { required: boolean }>;
  blocks: Map<string, { required: boolean; list: boolean; schema: BlockSchema }>;
}

const libDir = new URL('../../node_modules/@cdktf/provider-google/lib/', import.meta.url);

export const providerVersion: string = JSON.parse(readFileSync(new URL('../package.json', libDir), 'utf8'))
  .cdktf.provider.version;

/** Arguments Terraform itself understands on every resource and data source. */
const META_ARGUMENTS = new Set([
  'count',
  'for_each',
  'depends_on',
  'provider',
  'lifecycle',
  'provisioner',
  'connection',
]);

const PROPERTY = /readonly (\w+)(\?)?: ([^;]+);/g;
const INTERFACE = /^export interface (\w+)(?: extends [^{]+)? \{\n([\s\S]*?)^\}/gm;

const cache = new Map<string, BlockSchema | undefined>();

/** `google_compute_url_map` → lib/compute-url-map; data sources → lib/data-google-…. */
export function schemaFor(kind: 'resource' | 'data', type: string): BlockSchema | undefined {
  const key = `${kind}:${type}`;
  if (!cache.has(key)) {
    const dir = (kind === 'data' ? type : type.replace(/^google_/, '')).replaceAll('_', '-');
    const file = new URL(`${kind === 'data' ? 'data-' : ''}${dir}/index.d.ts`, libDir);
    cache.set(key, existsSync(file) ? parseBindings(readFileSync(file, 'utf8')) : undefined);
  }
  return cache.get(key);
}

function parseBindings(source: string): BlockSchema {
  const interfaces = new Map<string, string>();
  let config: string | undefined;
  for (const match of source.matchAll(INTERFACE)) {
    const [, name, body] = match as unknown as [string, string, string];
    interfaces.set(name, body);
    if (!config && name.endsWith('Config') && match[0].includes('cdktf.TerraformMetaArguments'))
      config = name;
  }
  if (!config) throw new Error('no <Resource>Config interface in the bindings');
  const build = (name: string, seen: Set<string>): BlockSchema => {
    const schema: BlockSchema = { attributes: new Map(), blocks: new Map() };
    const body = interfaces.get(name) ?? '';
    let previousEnd = 0;
    for (const property of body.matchAll(PROPERTY)) {
      const [text, camel, optional, type] = property as unknown as [
        string,
        string,
        string | undefined,
        string,
      ];
      // The Terraform name is the anchor of the registry link in the property's doc comment.
      const doc = body.slice(previousEnd, property.index);
      previousEnd = (property.index ?? 0) + text.length;
      const anchors = [...doc.matchAll(/#(\w+) \w+#\w+\}/g)];
      const tfName = anchors.at(-1)?.[1] ?? camel.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
      const bare = type.replace(/\s*\|\s*cdktf\.IResolvable/g, '').trim();
      const list = bare.endsWith('[]');
      const element = bare.replace(/\[\]$/, '');
      const required = optional !== '?';
      if (interfaces.has(element) && !seen.has(element)) {
        schema.blocks.set(tfName, { required, list, schema: build(element, new Set([...seen, element])) });
      } else {
        schema.attributes.set(tfName, { required });
      }
    }
    return schema;
  };
  return build(config, new Set([config]));
}

/**
 * hcl2json writes `name { … }` as an array of objects and `name = { … }` as a bare object (or an
 * expression string), so an array of objects is block syntax.
 */
function isBlockValue(value: unknown): value is Block[] {
  return (
    Array.isArray(value) &&
    value.every((item) => item !== null && typeof item === 'object' && !Array.isArray(item))
  );
}

/** Every problem of one block against its schema, as `<where>: <sentence>`. */
export function checkBlock(block: Block, schema: BlockSchema, where: string, topLevel: boolean): string[] {
  const problems: string[] = [];
  const counts = new Map<string, number>();
  const dynamic = (block.dynamic as Record<string, Block[]> | undefined) ?? {};
  for (const [name, generators] of Object.entries(dynamic)) {
    const nestedSchema = schema.blocks.get(name);
    if (!nestedSchema) {
      problems.push(`${where}: dynamic "${name}" is not a block of this ${topLevel ? 'resource' : 'block'}`);
      continue;
    }
    counts.set(name, (counts.get(name) ?? 0) + 2); // for_each may yield many
    for (const generator of generators) {
      for (const content of (generator.content as Block[] | undefined) ?? []) {
        problems.push(...checkBlock(content, nestedSchema.schema, `${where}.${name}`, false));
      }
    }
  }
  for (const [name, value] of Object.entries(block)) {
    if (name === 'dynamic') continue;
    if (topLevel && META_ARGUMENTS.has(name)) continue;
    const attribute = schema.attributes.get(name);
    const nestedSchema = schema.blocks.get(name);
    if (attribute) {
      if (isBlockValue(value) && value.length > 0) {
        problems.push(`${where}: "${name}" is an argument, written as a block (use ${name} = …)`);
      }
      continue;
    }
    if (nestedSchema) {
      if (!isBlockValue(value)) {
        problems.push(`${where}: "${name}" is a block, written as an argument (use ${name} { … })`);
        continue;
      }
      counts.set(name, (counts.get(name) ?? 0) + value.length);
      for (const item of value)
        problems.push(...checkBlock(item, nestedSchema.schema, `${where}.${name}`, false));
      continue;
    }
    problems.push(`${where}: unknown argument "${name}"`);
  }
  for (const [name, attribute] of schema.attributes) {
    if (attribute.required && !(name in block))
      problems.push(`${where}: required argument "${name}" is missing`);
  }
  for (const [name, nestedSchema] of schema.blocks) {
    const count = counts.get(name) ?? 0;
    if (nestedSchema.required && count === 0) problems.push(`${where}: required block "${name}" is missing`);
    if (!nestedSchema.list && count > 1 && !(name in dynamic)) {
      problems.push(`${where}: block "${name}" may appear once, found ${count}`);
    }
  }
  return problems;
}

/** Every google_* resource and data source of the model against the provider's schema. */
export function checkProviderSchema(tf: TerraformModel): string[] {
  const problems: string[] = [];
  for (const [kind, section] of [
    ['resource', tf.resources],
    ['data', tf.data],
  ] as const) {
    for (const [type, named] of Object.entries(section)) {
      if (!type.startsWith('google_')) continue;
      const schema = schemaFor(kind, type);
      for (const [name, block] of Object.entries(named)) {
        const where = `${kind === 'data' ? 'data.' : ''}${type}.${name}`;
        if (!schema) {
          problems.push(
            `${where}: google provider ${providerVersion} has no ${kind === 'data' ? 'data source' : 'resource'} "${type}"`,
          );
          continue;
        }
        problems.push(...checkBlock(block, schema, where, true));
      }
    }
  }
  return problems;
}
