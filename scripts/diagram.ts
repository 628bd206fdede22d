import { writeFileSync } from 'node:fs';
import { codeInventory } from '../tests/infra/code-inventory.js';
import { architectureSvg } from '../tests/infra/diagram.js';
import { loadTerraform } from '../tests/infra/terraform.js';

/** `npm run diagram`: rewrites docs/architecture.svg from the code and infra/ tables (commit the result). */
const target = new URL('../docs/architecture.svg', import.meta.url);
writeFileSync(target, architectureSvg(codeInventory(), await loadTerraform()));
process.stdout.write(`wrote ${target.pathname}\n`);
