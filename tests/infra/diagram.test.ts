import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { type CodeInventory, codeInventory } from './code-inventory.js';
import { architectureSvg } from './diagram.js';
import { loadTerraform, type TerraformModel } from './terraform.js';

let tf: TerraformModel;
let code: CodeInventory;
beforeAll(async () => {
  tf = await loadTerraform();
  code = codeInventory();
});

describe('docs/architecture.svg', () => {
  it('is what npm run diagram draws from the current code and infra/ (run it and commit the file if not)', () => {
    const committed = readFileSync(new URL('../../docs/architecture.svg', import.meta.url), 'utf8');
    expect(
      committed === architectureSvg(code, tf),
      'docs/architecture.svg is stale: run npm run diagram',
    ).toBe(true);
  });

  it('shows every unit, topic and bucket of the tables, and the README shows the picture', () => {
    const svg = architectureSvg(code, tf);
    for (const name of [...code.units.keys(), ...code.topics]) expect(svg, name).toContain(`>${name}<`);
    for (const bucket of Object.keys(tf.locals.buckets as object))
      expect(svg).toContain(`>bucket ${bucket}<`);
    expect(readFileSync(new URL('../../README.md', import.meta.url), 'utf8')).toContain(
      '![Units, topics and stores](docs/architecture.svg)',
    );
  });

  it('follows the tables: a new unit or topic in code appears, and the load balancer in infra/ is the edge', () => {
    const edited: CodeInventory = structuredClone(code);
    edited.units.set('billing', { http: false, consumes: ['machine-deleted'] });
    edited.topics.push('machine-deleted');
    edited.subscriptions.push({ topic: 'machine-deleted', unit: 'billing' });
    const svg = architectureSvg(edited, tf);
    expect(svg).toContain('>billing<');
    expect(svg).toContain('>machine-deleted<');
    expect(svg).toContain('HTTPS load balancer');
    const withoutLoadBalancer: TerraformModel = {
      ...tf,
      resources: Object.fromEntries(
        Object.entries(tf.resources).filter(([type]) => !type.startsWith('google_compute_')),
      ),
    };
    expect(architectureSvg(code, withoutLoadBalancer)).not.toContain('HTTPS load balancer');
  });
});
