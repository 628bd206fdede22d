import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from '@cdktf/hcl2json';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  apiFor,
  apisBeyondResources,
  deploySection,
  enabledApis,
  secretsGivenValues,
  shellBlocks,
  unsetVariables,
  workingDirectoryProblems,
} from './readme-deploy.js';
import { loadTerraform, type TerraformModel } from './terraform.js';

const root = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
let tf: TerraformModel;
let blocks: string[];

beforeAll(async () => {
  tf = await loadTerraform();
  blocks = shellBlocks(deploySection(read('README.md')));
});

describe("README's Deploy section can be walked in order", () => {
  it('has the commands an operator runs, in order', () => {
    const all = blocks.join('\n');
    const order = [
      'terraform version',
      'gcloud auth application-default login',
      'gcloud services enable',
      'roles/iam.serviceAccountUser --project',
      'infra/terraform.tfvars.example > infra/$ENV.tfvars',
      'npm run build',
      'terraform -chdir=infra apply',
      'gcloud secrets versions add',
      'output -raw edge_ip',
      'gcloud builds submit',
      'npm run smoke -- --url https://$DOMAIN',
      'terraform -chdir=infra destroy',
    ].map((command) => all.indexOf(command));
    expect(order.every((at) => at >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('uses no shell variable that nothing set before', () => {
    expect(unsetVariables(blocks)).toEqual([]);
  });

  it('catches a variable used before it is set, and one never set', () => {
    expect(
      unsetVariables(['echo $PROJECT', 'PROJECT=x', `echo $PROJECT '$NOT_EXPANDED' \${REGION}`]),
    ).toEqual([
      'block 1 uses $PROJECT, which nothing before it sets: echo $PROJECT',
      `block 3 uses $REGION, which nothing before it sets: echo $PROJECT '' \${REGION}`,
    ]);
  });

  it('runs every command where it finds its files: the working directory chains from block to block', () => {
    expect(workingDirectoryProblems(blocks, root)).toEqual([]);
  });

  it("catches a step that runs where an earlier step's `cd` left it", () => {
    const problems = workingDirectoryProblems(
      [
        'cd infra\nterraform init -backend-config=bucket=b',
        'gcloud builds submit --config cloudbuild.yaml\nnpm run build\ncp infra/terraform.tfvars.example x',
      ],
      root,
    );
    expect(problems).toEqual([
      'block 2: `gcloud builds submit --config cloudbuild.yaml` has no cloudbuild.yaml here (run from infra)',
      'block 2: `npm run build` needs package.json (run from infra)',
      'block 2: `cp infra/terraform.tfvars.example x` has no infra/ here (run from infra)',
    ]);
  });

  it('gives every secret of infra/secrets.tf a value', () => {
    const secrets = tf.locals.secrets as string[];
    expect(secrets).toContain('sso-seal-key');
    const given = secretsGivenValues(blocks);
    expect(secrets.filter((secret) => !given.has(secret))).toEqual([]);
    expect([...given].filter((secret) => !secrets.includes(secret))).toEqual([]);
  });

  it('a secret missing from the loop is noticed', () => {
    const given = secretsGivenValues([
      'for name in password-pepper mail-seal-key; do\n  openssl rand -base64 32 | gcloud secrets versions add $name --data-file=-\ndone\nprintf x | gcloud secrets versions add smtp-url --data-file=-',
    ]);
    expect([...given].sort()).toEqual(['mail-seal-key', 'password-pepper', 'smtp-url']);
    expect(given.has('sso-seal-key')).toBe(false);
  });

  it('enables the API of every resource type in infra/ and those the functions need at run time', () => {
    const types = [...Object.keys(tf.resources), ...Object.keys(tf.data)].filter((t) =>
      t.startsWith('google_'),
    );
    expect(types.filter((type) => !apiFor(type))).toEqual([]);
    const needed = new Set([...types.map((type) => apiFor(type) as string), ...apisBeyondResources]);
    const enabled = enabledApis(blocks);
    expect([...needed].filter((api) => !enabled.has(api))).toEqual([]);
    expect(enabled.has('compute.googleapis.com')).toBe(true);
  });

  it('the variables example sets only variables infra/ declares, including every one without a default', async () => {
    const example = (await parse('example.tfvars', read('infra/terraform.tfvars.example'))) as Record<
      string,
      unknown
    >;
    const declared = Object.keys(tf.variables);
    expect(Object.keys(example).filter((name) => !declared.includes(name))).toEqual([]);
    const required = declared.filter((name) => !('default' in (tf.variables[name] ?? {})));
    expect(required.filter((name) => !(name in example))).toEqual([]);
    expect(example).toMatchObject({ db_availability_type: 'REGIONAL', armor_waf_enforce: false });
  });

  it('the variables file it writes from the example carries the project, domain, environment and region', async () => {
    const all = blocks.join('\n').replace(/\\\n/g, ' ');
    const command = /^sed -e .* infra\/terraform\.tfvars\.example > infra\/\$ENV\.tfvars$/m.exec(all)?.[0];
    if (!command) throw new Error('no sed from infra/terraform.tfvars.example to infra/$ENV.tfvars');
    const dir = mkdtempSync(join(tmpdir(), 'sf-tfvars-'));
    try {
      execFileSync('bash', ['-c', command.replace('> infra/$ENV.tfvars', '> "$OUT"')], {
        cwd: root,
        env: {
          PATH: process.env.PATH,
          PROJECT: 'beta-proj',
          DOMAIN: 'beta.example.org',
          ENV: 'dev',
          REGION: 'us-east1',
          OUT: join(dir, 'dev.tfvars'),
        },
      });
      const vars = (await parse('dev.tfvars', readFileSync(join(dir, 'dev.tfvars'), 'utf8'))) as Record<
        string,
        unknown
      >;
      expect(vars).toMatchObject({
        project: 'beta-proj',
        environment: 'dev',
        region: 'us-east1',
        domain: 'beta.example.org',
        app_url: 'https://beta.example.org',
        migrator_service_account: 'sf-deployer@beta-proj.iam.gserviceaccount.com',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the teardown's edit of infra/sql.tf really turns both deletion protections off", () => {
    const sed = /sed -i -E 's\/(.+?)\/(.+?)\/' infra\/sql\.tf/.exec(blocks.join('\n'));
    if (!sed) throw new Error('the teardown does not edit infra/sql.tf');
    const edited = read('infra/sql.tf').replace(
      new RegExp(sed[1] as string, 'g'),
      (sed[2] as string).replace(/\\(\d)/g, '$$$1'),
    );
    expect(edited).toMatch(/^ {2}deletion_protection = false$/m);
    expect(edited).toMatch(/deletion_protection_enabled = false/);
    expect(edited).not.toMatch(/deletion_protection(_enabled)? *= *true/);
  });

  it('Cloud Build copies the built console to its bucket and deploys Firestore rules only for the Firestore fast state', () => {
    const build = read('cloudbuild.yaml');
    expect(build).not.toMatch(/--only[\s\S]{0,20}hosting/);
    expect(build).toContain('test -f web/dist/index.html');
    expect(build.indexOf('id: bundle')).toBeLessThan(build.indexOf('id: console'));
    expect(build).toMatch(
      /fast_state_store\)" != firestore \]; then echo[^\n]*; exit 0; fi\n\s+npx --yes firebase-tools@14 deploy --only firestore/,
    );
    expect(Object.keys(tf.outputs)).toEqual(
      expect.arrayContaining(['console_bucket', 'fast_state_store', 'edge_ip']),
    );
  });
});
