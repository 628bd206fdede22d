import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { batchedSink, createLogger, type LogFields } from './logger.js';

describe('logger', () => {
  it('writes the access line as the general path would, with the child fields and a JSON-escaped path', () => {
    const lines: string[] = [];
    const log = createLogger('info', (line) => lines.push(line), { service: 'x' }).child({
      requestId: 'r-1',
      unit: 'sessions',
    });
    const path = '/api/"quoted"\\back\nslash\u2028';
    log.access({ method: 'GET', path, status: 200 });
    log.info('request', { method: 'GET', path, status: 200 });
    const [access, general] = lines.map((line) => JSON.parse(line) as LogFields);
    expect(access).toEqual({ ...general, time: access?.time });
    expect(Object.keys(access ?? {})).toEqual(Object.keys(general ?? {}));
    expect(access).toMatchObject({
      severity: 'INFO',
      message: 'request',
      requestId: 'r-1',
      path,
      status: 200,
    });
  });

  it('writes no access line above INFO, and none for an undefined method field', () => {
    const lines: string[] = [];
    createLogger('warn', (line) => lines.push(line)).access({ method: 'GET', path: '/', status: 200 });
    expect(lines).toEqual([]);
    createLogger('info', (line) => lines.push(line)).access({ method: undefined, path: '/', status: 404 });
    expect(JSON.parse(lines[0] ?? '{}')).not.toHaveProperty('method');
  });

  it('batches lines into one write per interval, in order, and writes early when a batch grows large', async () => {
    vi.useFakeTimers();
    try {
      const writes: string[] = [];
      const sink = batchedSink((chunk) => writes.push(chunk), null, { maxDelayMs: 25, maxBytes: 20 });
      sink('a');
      sink('b');
      expect(writes).toEqual([]);
      vi.advanceTimersByTime(25);
      expect(writes).toEqual(['a\nb\n']);
      sink('0123456789');
      sink('0123456789');
      expect(writes).toEqual(['a\nb\n', '0123456789\n0123456789\n']);
      sink('c');
      vi.advanceTimersByTime(24);
      expect(writes).toHaveLength(2);
      vi.advanceTimersByTime(1);
      expect(writes).toEqual(['a\nb\n', '0123456789\n0123456789\n', 'c\n']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('writes pending lines synchronously when the process exits', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sf-log-')), 'out.log');
    const fd = openSync(file, 'w');
    const write = vi.fn();
    const before = process.listeners('exit');
    const sink = batchedSink(write, fd);
    const onExit = process.listeners('exit').find((listener) => !before.includes(listener)) as () => void;
    try {
      sink('last words');
      onExit();
      expect(readFileSync(file, 'utf8')).toBe('last words\n');
      expect(write).not.toHaveBeenCalled();
    } finally {
      process.removeListener('exit', onExit);
      closeSync(fd);
    }
  });
});
