/**
 * What a signal does to a command (src/io/interrupt.ts), in this process: the
 * signal is emitted to the handlers handleSignals installs, and process.exit
 * is held so that the test process goes on (tests/e2e signals real CLI runs).
 * The module keeps state for the life of a process (a signal held during a
 * publish stays caught), so each test imports it afresh and removes the
 * handlers it installed.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { tempDir } from '../helpers.js';

const SIGNALS = ['SIGHUP', 'SIGINT', 'SIGTERM'] as const;
type Signal = (typeof SIGNALS)[number];

const exits: number[] = [];
const reports: [Signal, number, string][] = [];
let before: Map<Signal, Function[]>;

beforeAll(() => {
  before = new Map(SIGNALS.map((s) => [s, process.listeners(s)]));
  vi.spyOn(process, 'exit').mockImplementation(((code: number) => {
    exits.push(code);
  }) as never);
});

afterEach(() => {
  exits.length = 0;
  reports.length = 0;
  // Only the handlers the test installed go.
  for (const s of SIGNALS) for (const l of process.listeners(s)) if (!before.get(s)!.includes(l)) process.off(s, l as () => void);
});

afterAll(() => {
  vi.restoreAllMocks();
});

/** The module as a new process has it. */
async function fresh() {
  vi.resetModules();
  return import('../../src/io/interrupt.js');
}

/** The module with its signal handlers installed and its reports collected. */
async function handling() {
  const m = await fresh();
  m.handleSignals();
  m.reportInterruptsWith((s, code, message) => reports.push([s as Signal, code, message]));
  return m;
}

const signal = (s: Signal) => process.emit(s, s);

describe('before handleSignals and reportInterruptsWith', () => {
  it('beforeAnySignal gives back what the work gives, and its error', async () => {
    const { beforeAnySignal } = await fresh();
    expect(await beforeAnySignal(async () => 42)).toBe(42);
    await expect(beforeAnySignal(async () => Promise.reject(new Error('disk full')))).rejects.toThrow('disk full');
  });

  it('with no reporter, a signal writes its line to stderr as "crm: …"', async () => {
    const written: string[] = [];
    const { handleSignals } = await fresh();
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(((text: string) => written.push(text)) as never);
    handleSignals();
    signal('SIGTERM');
    write.mockRestore();
    expect(written).toEqual(['crm: stopped by SIGTERM; its temporary files were removed\n']);
    expect(exits).toEqual([143]);
  });
});

describe('signals', () => {
  it('installs one handler per signal, however often it is called', async () => {
    const { handleSignals } = await handling();
    const counts = SIGNALS.map((s) => process.listenerCount(s));
    handleSignals();
    handleSignals();
    expect(SIGNALS.map((s) => process.listenerCount(s))).toEqual(counts);
    expect(SIGNALS.map((s) => process.listenerCount(s) - before.get(s)!.length)).toEqual([1, 1, 1]);
  });

  it('exits with 128 + the signal number: SIGHUP 129, SIGINT 130, SIGTERM 143, reporting the one line', async () => {
    await handling();
    for (const s of SIGNALS) signal(s);
    expect(exits).toEqual([129, 130, 143]);
    expect(reports).toEqual([
      ['SIGHUP', 129, 'stopped by SIGHUP; its temporary files were removed'],
      ['SIGINT', 130, 'stopped by SIGINT; its temporary files were removed'],
      ['SIGTERM', 143, 'stopped by SIGTERM; its temporary files were removed'],
    ]);
  });

  it('removes what is registered, a folder with its files or a file, and not what was forgotten', async () => {
    const { onInterrupt } = await handling();
    const dir = await tempDir();
    const staging = path.join(dir, '.crm-staging-1-x');
    const temp = path.join(dir, '.crm-1-00000000.tmp');
    const published = path.join(dir, '.crm-staging-2-y');
    await mkdir(path.join(staging, 'sub'), { recursive: true });
    await writeFile(path.join(staging, 'sub', 'customers.csv'), 'x');
    await writeFile(temp, 'x');
    await mkdir(published);
    onInterrupt({ remove: staging });
    onInterrupt({ remove: temp });
    const forget = onInterrupt({ remove: published });
    forget();
    // Already gone by the time the signal comes (a temp file renamed into place): not an error.
    onInterrupt({ remove: path.join(dir, '.crm-1-11111111.tmp') });
    signal('SIGINT');
    expect([existsSync(staging), existsSync(temp), existsSync(published)]).toEqual([false, false, true]);
    expect(exits).toEqual([130]);
  });

  it('during beforeAnySignal, waits for the work to end, then stops with the first signal caught', async () => {
    const { beforeAnySignal, onInterrupt } = await handling();
    const dir = await tempDir();
    const staging = path.join(dir, '.crm-staging-3-z');
    await mkdir(staging);
    onInterrupt({ remove: staging });
    const seenDuringWork: unknown[] = [];
    const result = await beforeAnySignal(async () => {
      signal('SIGINT');
      signal('SIGTERM');
      seenDuringWork.push([...exits], existsSync(staging));
      return 'published';
    });
    expect(result).toBe('published');
    expect(seenDuringWork).toEqual([[], true]);
    expect(exits).toEqual([130]);
    expect(reports).toEqual([['SIGINT', 130, 'stopped by SIGINT once the publish in progress had ended']]);
    expect(existsSync(staging)).toBe(false);
  });

  it('stops once the outermost of nested beforeAnySignal ends, also when the work fails', async () => {
    const { beforeAnySignal } = await handling();
    const exitsWhenInnerEnded: number[] = [];
    await expect(
      beforeAnySignal(async () => {
        await beforeAnySignal(async () => {
          signal('SIGHUP');
        });
        exitsWhenInnerEnded.push(...exits);
        throw new Error('history locked');
      }),
    ).rejects.toThrow('history locked');
    expect(exitsWhenInnerEnded).toEqual([]);
    expect(exits).toEqual([129]);
    expect(reports).toEqual([['SIGHUP', 129, 'stopped by SIGHUP once the publish in progress had ended']]);
  });
});
