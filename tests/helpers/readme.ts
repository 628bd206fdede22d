import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A README walk-through: a fence opened as ```sh title="…" (optionally needs="tool"), whose
 * `#> ` lines are what it prints, in order (`…` stands for anything: ids, tokens, times).
 */
export interface Walkthrough {
  title: string;
  /** 1-based README line of the opening fence. */
  line: number;
  code: string;
  needs: string[];
  expected: Array<{ text: string; line: number }>;
}

const OPENING = /^```sh title="([^"]+)"(.*)$/;

export function walkthroughs(readme: string): Walkthrough[] {
  const lines = readme.split('\n');
  const found: Walkthrough[] = [];
  for (let i = 0; i < lines.length; i++) {
    const opening = OPENING.exec(lines[i] ?? '');
    if (!opening) continue;
    const start = i;
    const body: string[] = [];
    const expected: Walkthrough['expected'] = [];
    for (i++; i < lines.length && lines[i] !== '```'; i++) {
      const text = lines[i] ?? '';
      body.push(text);
      if (text === '#>' || text.startsWith('#> ')) expected.push({ text: text.slice(3), line: i + 1 });
    }
    const needs =
      /needs="([^"]*)"/
        .exec(opening[2] ?? '')?.[1]
        ?.split(/\s+/)
        .filter(Boolean) ?? [];
    found.push({ title: opening[1] ?? '', line: start + 1, code: `${body.join('\n')}\n`, needs, expected });
  }
  return found;
}

/** Every fenced shell block (titled or not), for checks that hold for all of them. */
export function shellBlocks(readme: string): Array<{ info: string; line: number; code: string }> {
  const blocks: Array<{ info: string; line: number; code: string }> = [];
  const lines = readme.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const opening = /^```(sh|bash)\b(.*)$/.exec(lines[i] ?? '');
    if (!opening) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== '```'; i++) body.push(lines[i] ?? '');
    blocks.push({ info: `${opening[1]}${opening[2]}`, line: start + 1, code: body.join('\n') });
  }
  return blocks;
}

/** `…` matches anything within the line; everything else literally. */
export function lineMatches(expected: string, actual: string): boolean {
  const pattern = expected
    .split('…')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${pattern}$`, 's').test(actual);
}

let runs = 0;

export interface BlockRun {
  status: number | null;
  stdout: string;
  stderr: string;
  /** Block line (1-based) of the last command bash ran at the block's own level. */
  lastLine: number | null;
}

/**
 * Runs one block with bash from the repository root, tracing (on a separate descriptor) which of
 * its own lines ran, so a failure can name the README command rather than a helper's insides.
 */
export function runBlock(
  walkthrough: Walkthrough,
  options: { dir: string; cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<BlockRun> {
  const name = `block-${walkthrough.line}-${++runs}`;
  const file = join(options.dir, `${name}.sh`);
  const trace = join(options.dir, `${name}.trace`);
  writeFileSync(file, walkthrough.code);
  // bash's own ${…} expansions in PS4, not a template: each traced line names its file and line.
  const ps4 = ['+$', '{BASH_SOURCE[0]##*/}:$', '{LINENO}: '].join('');
  const wrapper = `exec 9>"$2"; BASH_XTRACEFD=9; PS4='${ps4}'; set -x; . "$1"`;
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', wrapper, 'readme-block', file, trace], {
      cwd: options.cwd,
      env: options.env,
      timeout: options.timeoutMs,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('close', (status) => {
      let lastLine: number | null = null;
      for (const entry of readFileSync(trace, 'utf8').split('\n')) {
        const match = new RegExp(`^\\++${name}\\.sh:(\\d+): `).exec(entry);
        if (match) lastLine = Number(match[1]);
      }
      resolve({ status, stdout, stderr, lastLine });
    });
  });
}

const indent = (text: string) =>
  text.trim() === ''
    ? ''
    : text
        .trimEnd()
        .split('\n')
        .map((l) => `    ${l}`)
        .join('\n');

/**
 * Null when the run exited 0 and printed exactly the `#> ` lines; otherwise one message naming
 * the block, the README command and what differed.
 */
export function judge(walkthrough: Walkthrough, run: BlockRun, readmeLines: string[]): string | null {
  const where = `README walk-through "${walkthrough.title}" (README.md:${walkthrough.line})`;
  const at = (blockLine: number | null) => {
    if (blockLine === null) return 'before its first command';
    const readmeLine = walkthrough.line + blockLine;
    return `README.md:${readmeLine}: ${(readmeLines[readmeLine - 1] ?? '').trim()}`;
  };
  if (run.status !== 0) {
    return [
      `${where} exited ${run.status ?? 'on a timeout'}`,
      `  last command: ${at(run.lastLine)}`,
      `  stderr:\n${indent(run.stderr) || '    (empty)'}`,
      `  stdout:\n${indent(run.stdout) || '    (empty)'}`,
    ].join('\n');
  }
  const actual = run.stdout.replace(/\n$/, '').split('\n');
  if (run.stdout === '') actual.length = 0;
  const count = Math.max(actual.length, walkthrough.expected.length);
  for (let i = 0; i < count; i++) {
    const want = walkthrough.expected[i];
    const got = actual[i];
    if (want !== undefined && got !== undefined && lineMatches(want.text, got)) continue;
    return [
      `${where} printed something else at output line ${i + 1}`,
      `  README shows: ${want ? `README.md:${want.line}: #> ${want.text}` : '(nothing more)'}`,
      `  printed:      ${got ?? '(nothing more)'}`,
      `  whole output:\n${indent(run.stdout) || '    (empty)'}`,
      `  stderr:\n${indent(run.stderr) || '    (empty)'}`,
    ].join('\n');
  }
  return null;
}
