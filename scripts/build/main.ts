import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { localUnits } from '../../shared/runtime/gateway.js';
import { bundleUnit, repoRoot } from './bundle.js';

// `npm run build`: one bundle per deploy unit in dist/<unit>/ (infra/functions.tf zips each one).
const outDir = join(repoRoot, 'dist');
rmSync(outDir, { recursive: true, force: true });
const declared = localUnits();
const missing = declared.filter((unit) => !existsSync(join(repoRoot, 'functions', unit, 'index.ts')));
for (const unit of declared.filter((u) => !missing.includes(u))) {
  const result = await bundleUnit(unit, outDir);
  const kib = (result.bundleBytes / 1024).toFixed(0);
  console.log(`dist/${unit}/index.js ${kib} KiB; installs: ${Object.keys(result.dependencies).join(', ')}`);
}
if (missing.length > 0) {
  // Declared by a rewrite or subscription ahead of their code (later issues); nothing to bundle yet.
  console.warn(`not built (no functions/<unit>/index.ts yet): ${missing.join(', ')}`);
}
