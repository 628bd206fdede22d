import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from '@cdktf/hcl2json';

/** A block as hcl2json gives it: attributes, with nested blocks as arrays of objects. */
export type Block = Record<string, unknown>;

/** Every `infra/*.tf` file merged: `resource.<type>.<name>` and `data.<type>.<name>` blocks, variables and all locals. */
export interface TerraformModel {
  resources: Record<string, Record<string, Block>>;
  data: Record<string, Record<string, Block>>;
  locals: Record<string, unknown>;
  /** `variable` blocks by name (type, default, description…), `output` blocks by name. */
  variables: Record<string, Block>;
  outputs: Record<string, Block>;
}

export const infraDir = new URL('../../infra/', import.meta.url);

export async function loadTerraform(dir = infraDir): Promise<TerraformModel> {
  const model: TerraformModel = { resources: {}, data: {}, locals: {}, variables: {}, outputs: {} };
  const files = readdirSync(dir)
    .filter((file) => file.endsWith('.tf'))
    .sort();
  for (const file of files) {
    const json = (await parse(file, readFileSync(join(dir.pathname, file), 'utf8'))) as Record<
      string,
      unknown
    >;
    for (const locals of (json.locals as Block[] | undefined) ?? []) {
      for (const [name, value] of Object.entries(locals)) {
        if (name in model.locals) throw new Error(`local.${name} is defined twice (${file})`);
        model.locals[name] = value;
      }
    }
    for (const [kind, into] of [
      ['variable', model.variables],
      ['output', model.outputs],
    ] as const) {
      for (const [name, blocks] of Object.entries(
        (json[kind] as Record<string, Block[]> | undefined) ?? {},
      )) {
        if (name in into || blocks.length !== 1)
          throw new Error(`${kind}.${name} is defined twice (${file})`);
        into[name] = blocks[0] as Block;
      }
    }
    mergeBlocks(model.resources, json.resource, file);
    mergeBlocks(model.data, json.data, file);
  }
  return model;
}

function mergeBlocks(into: TerraformModel['resources'], raw: unknown, file: string): void {
  for (const [type, named] of Object.entries((raw as Record<string, Record<string, Block[]>>) ?? {})) {
    into[type] ??= {};
    for (const [name, blocks] of Object.entries(named)) {
      if (into[type][name] || blocks.length !== 1)
        throw new Error(`${type}.${name} is defined twice (${file})`);
      into[type][name] = blocks[0] as Block;
    }
  }
}

/** The first nested block called `name` (hcl2json wraps nested blocks in arrays). */
export function nested(block: Block | undefined, name: string): Block | undefined {
  const value = block?.[name];
  return Array.isArray(value) ? (value[0] as Block | undefined) : undefined;
}

/** Every string anywhere inside a value, for scans such as "no primitive role". */
export function allStrings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(allStrings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(allStrings);
  return [];
}

/** How hcl2json writes an expression: `ref('var.domain')` is the string "${var.domain}". */
export function ref(expression: string): string {
  return `\${${expression}}`;
}
