import { execFileSync } from 'node:child_process';

/** Whether a command is on PATH: tests that drive a real tool (asciinema, jq) say so when it is missing. */
export function hasCommand(name: string): boolean {
  try {
    execFileSync('which', [name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
