import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** README's "## Deploy" section, up to the next level-2 heading. */
export function deploySection(readme: string): string {
  const start = readme.indexOf('\n## Deploy\n');
  if (start < 0) throw new Error('README has no "## Deploy" section');
  const next = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, next < 0 ? undefined : next);
}

/** The ```sh blocks of a text, in order. */
export function shellBlocks(text: string): string[] {
  return [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] as string);
}

/** Logical lines: continuations joined, comments and single-quoted text (never expanded) removed. */
function logicalLines(block: string): string[] {
  return block
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.replace(/'[^']*'/g, "''").replace(/(^|\s)#.*$/, '$1'))
    .filter((line) => line.trim().length > 0);
}

const ALWAYS_SET = new Set(['HOME', 'PATH', 'PWD', 'USER', 'SHELL']);

/**
 * Every `$VAR` the blocks use before anything set it, read as one shell session in order:
 * assignments (`A=… B=…`, also before a command), `for x in`, and the shell's own variables.
 */
export function unsetVariables(blocks: string[]): string[] {
  const set = new Set(ALWAYS_SET);
  const problems: string[] = [];
  for (const [index, block] of blocks.entries()) {
    for (const line of logicalLines(block)) {
      for (const match of line.matchAll(/(?:^|[\s;&|(])([A-Za-z_][A-Za-z0-9_]*)=/g))
        set.add(match[1] as string);
      for (const match of line.matchAll(/\bfor ([A-Za-z_][A-Za-z0-9_]*) in\b/g)) set.add(match[1] as string);
      for (const match of line.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)) {
        const name = match[1] as string;
        if (!set.has(name))
          problems.push(`block ${index + 1} uses $${name}, which nothing before it sets: ${line.trim()}`);
      }
    }
  }
  return problems;
}

/**
 * Follows `cd` through the blocks as one shell session from the repository root and reports each
 * command that would not find what it needs where it runs: package.json for npm, *.tf or -chdir's
 * directory for terraform, `--config` files, and paths into the repository's own directories.
 */
export function workingDirectoryProblems(blocks: string[], root: string): string[] {
  const topDirs = new Set(
    readdirSync(root).filter((entry) => !entry.startsWith('.') && statSync(join(root, entry)).isDirectory()),
  );
  let cwd = root;
  const problems: string[] = [];
  const where = () => (cwd === root ? 'the repository root' : cwd.slice(root.length + 1));
  for (const [index, block] of blocks.entries()) {
    for (const line of logicalLines(block)) {
      for (const command of line.split(/&&|;|\|\|?/).map((c) => c.trim())) {
        const words = command.split(/\s+/);
        const say = (what: string) =>
          problems.push(`block ${index + 1}: \`${command}\` ${what} (run from ${where()})`);
        if (words[0] === 'cd') {
          const next = resolve(cwd, words[1] ?? root);
          if (!existsSync(next)) say('changes to a directory that does not exist');
          else cwd = next;
          continue;
        }
        if (words[0] === 'npm' && !existsSync(join(cwd, 'package.json'))) say('needs package.json');
        if (words[0] === 'terraform') {
          const chdir = words.find((w) => w.startsWith('-chdir='))?.slice('-chdir='.length);
          if (chdir !== undefined && !existsSync(join(cwd, chdir))) say(`has no ${chdir}/ here`);
          const subcommand = words.find((w, i) => i > 0 && !w.startsWith('-'));
          if (
            chdir === undefined &&
            subcommand &&
            subcommand !== 'version' &&
            !readdirSync(cwd).some((f) => f.endsWith('.tf'))
          ) {
            say('has no Terraform files here');
          }
        }
        const config = words.indexOf('--config');
        if (config >= 0 && !existsSync(join(cwd, words[config + 1] ?? '')))
          say(`has no ${words[config + 1]} here`);
        for (const word of words) {
          const path = /^"?([\w.-]+)\/[^\s"]*"?$/.exec(word);
          if (path && topDirs.has(path[1] as string) && !existsSync(join(cwd, path[1] as string))) {
            say(`has no ${path[1]}/ here`);
          }
        }
      }
    }
  }
  return problems;
}

/** Secret names the blocks give a value to: `secrets versions add <name>`, or every name of a `for` over `$name`. */
export function secretsGivenValues(blocks: string[]): Set<string> {
  const names = new Set<string>();
  for (const block of blocks) {
    const text = block.replace(/\\\n/g, ' ');
    for (const match of text.matchAll(/secrets versions add ([a-z0-9-]+)/g)) names.add(match[1] as string);
    for (const match of text.matchAll(/for (\w+) in ([^;\n]+); do([\s\S]*?)\bdone\b/g)) {
      if (new RegExp(`secrets versions add \\$${match[1]}\\b`).test(match[3] as string)) {
        for (const name of (match[2] as string).trim().split(/\s+/)) names.add(name);
      }
    }
  }
  return names;
}

/** Which API each resource type needs, by type prefix (longest first wins). */
export const apiForResource: Record<string, string> = {
  google_compute_: 'compute.googleapis.com',
  google_sql_: 'sqladmin.googleapis.com',
  google_service_networking_: 'servicenetworking.googleapis.com',
  google_vpc_access_: 'vpcaccess.googleapis.com',
  google_cloudfunctions2_: 'cloudfunctions.googleapis.com',
  google_cloud_run_: 'run.googleapis.com',
  google_cloudbuild_: 'cloudbuild.googleapis.com',
  google_pubsub_: 'pubsub.googleapis.com',
  google_cloud_scheduler_: 'cloudscheduler.googleapis.com',
  google_secret_manager_: 'secretmanager.googleapis.com',
  google_service_account: 'iam.googleapis.com',
  google_project_iam_: 'cloudresourcemanager.googleapis.com',
  google_project: 'cloudresourcemanager.googleapis.com',
  google_storage_: 'storage.googleapis.com',
  google_logging_: 'logging.googleapis.com',
  google_monitoring_: 'monitoring.googleapis.com',
  google_firestore_: 'firestore.googleapis.com',
};

/** APIs the code needs that no resource type shows: 2nd-gen functions build and run on these. */
export const apisBeyondResources = [
  'run.googleapis.com',
  'cloudbuild.googleapis.com',
  'artifactregistry.googleapis.com',
  // Recordings sign playback URLs with IAM signBlob.
  'iamcredentials.googleapis.com',
  // Firebase Auth (OAuth login) and `firebase deploy --only firestore`.
  'firebase.googleapis.com',
  'firebaserules.googleapis.com',
];

export function apiFor(type: string): string | undefined {
  const prefix = Object.keys(apiForResource)
    .filter((p) => type.startsWith(p))
    .sort((a, b) => b.length - a.length)[0];
  return prefix ? apiForResource[prefix] : undefined;
}

/** The APIs `gcloud services enable` names in the blocks. */
export function enabledApis(blocks: string[]): Set<string> {
  const apis = new Set<string>();
  for (const block of blocks) {
    for (const command of block.replace(/\\\n/g, ' ').split('\n')) {
      if (!command.includes('gcloud services enable')) continue;
      for (const match of command.matchAll(/\b([a-z0-9]+\.googleapis\.com)\b/g)) apis.add(match[1] as string);
    }
  }
  return apis;
}
