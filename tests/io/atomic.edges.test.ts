/**
 * The atomic publish in this process (atomicOutputs.test.ts kills real CLI
 * runs; this file pins down each step, so that a changed step fails here).
 */
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAlive, OutputSet, recoverInterruptedPublish, writeFileAtomic } from '../../src/io/atomic.js';
import { tempDir } from '../helpers.js';

const JOURNAL = '.crm-publish.json';

const list = async (dir: string) => (await readdir(dir)).sort();

/** The id of a process that has exited (and was reaped), so no longer exists. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

describe('writeFileAtomic', () => {
  it('writes the data, creating the missing folders, and leaves only the target behind', async () => {
    const dir = await tempDir();
    const target = path.join(dir, 'a', 'b', 'backtest.json');
    await writeFileAtomic(target, '{"k":1}');
    expect(await readFile(target, 'utf8')).toBe('{"k":1}');
    expect(await list(path.join(dir, 'a', 'b'))).toEqual(['backtest.json']);
  });

  it('replaces an existing file whole', async () => {
    const dir = await tempDir();
    const target = path.join(dir, 'report.html');
    await writeFile(target, 'the old report, longer than the new one');
    await writeFileAtomic(target, new Uint8Array([110, 101, 119]));
    expect(await readFile(target, 'utf8')).toBe('new');
    expect(await list(dir)).toEqual(['report.html']);
  });

  it('leaves no temp file behind when the rename fails (a folder where the file should go)', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'report.html', 'inside'), { recursive: true });
    await expect(writeFileAtomic(path.join(dir, 'report.html'), '<!doctype html>')).rejects.toThrow(/EISDIR|EEXIST|ENOTEMPTY/);
    expect(await list(dir)).toEqual(['report.html']);
  });
});

describe('OutputSet', () => {
  it('stages files in .crm-staging-<tag> inside the output folder (created), then publishes them and, once finished, leaves nothing else', async () => {
    const dir = path.join(await tempDir(), 'out');
    const set = await OutputSet.begin(dir, '7-ab');
    expect(set.stagingDir).toBe(path.join(dir, '.crm-staging-7-ab'));
    expect(set.staged('customers.csv')).toBe(path.join(dir, '.crm-staging-7-ab', 'customers.csv'));
    await writeFile(set.staged('customers.csv'), 'new customers');
    await writeFile(set.staged('summary.json'), 'new summary');
    await writeFile(path.join(dir, 'customers.csv'), 'old customers');
    await set.publish(['customers.csv', 'summary.json']);
    // The journal stays until the history knows the run is published (finish).
    expect(await list(dir)).toEqual([JOURNAL, 'customers.csv', 'summary.json']);
    await set.finish();
    expect(await list(dir)).toEqual(['customers.csv', 'summary.json']);
    expect(await readFile(path.join(dir, 'customers.csv'), 'utf8')).toBe('new customers');
    expect(await readFile(path.join(dir, 'summary.json'), 'utf8')).toBe('new summary');
  });

  it('begins with an empty staging folder even when one of the same tag was left over', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, '.crm-staging-7-ab'));
    await writeFile(path.join(dir, '.crm-staging-7-ab', 'stale.csv'), 'stale');
    const set = await OutputSet.begin(dir, '7-ab');
    expect(await readdir(set.stagingDir)).toEqual([]);
  });

  it('abandon removes the staged files and keeps the previous outputs', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'customers.csv'), 'old customers');
    const set = await OutputSet.begin(dir, '7-ab');
    await writeFile(set.staged('customers.csv'), 'new customers');
    await set.abandon();
    expect(await list(dir)).toEqual(['customers.csv']);
    expect(await readFile(path.join(dir, 'customers.csv'), 'utf8')).toBe('old customers');
  });

  it('a publish that cannot move a file (a folder in its place) fails, and the journal stays for the next run to finish', async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, 'customers.csv', 'inside'), { recursive: true });
    const set = await OutputSet.begin(dir, '7-ab');
    await writeFile(set.staged('customers.csv'), 'new customers');
    await expect(set.publish(['customers.csv'])).rejects.toThrow(/\((EISDIR|EEXIST|ENOTEMPTY).*\); the publish will be completed by the next crm command once that is fixed$/);
    expect(JSON.parse(await readFile(path.join(dir, JOURNAL), 'utf8'))).toEqual({ staging: '.crm-staging-7-ab', files: ['customers.csv'] });
  });
});

describe('a publish that replaces a set', () => {
  it('removes the old files it lists once the new ones are in place, and names them in the journal', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'mailing-01.csv'), 'old part 1');
    await writeFile(path.join(dir, 'mailing-02.csv'), 'old part 2');
    await writeFile(path.join(dir, 'other.csv'), 'not ours');
    const set = await OutputSet.begin(dir, '7-ab');
    await writeFile(set.staged('mailing.csv'), 'one file now');
    await set.publish(['mailing.csv'], undefined, ['mailing-01.csv', 'mailing-02.csv']);
    expect(JSON.parse(await readFile(path.join(dir, JOURNAL), 'utf8'))).toEqual({ staging: '.crm-staging-7-ab', files: ['mailing.csv'], remove: ['mailing-01.csv', 'mailing-02.csv'] });
    expect(await list(dir)).toEqual([JOURNAL, 'mailing.csv', 'other.csv']);
  });

  it('a journal with a remove list, found by the next command: the renames finished, then the old files removed', async () => {
    const dir = await tempDir();
    const staging = path.join(dir, `.crm-staging-${process.pid}-ab`);
    await mkdir(staging);
    await writeFile(path.join(staging, 'mailing.csv'), 'new');
    await writeFile(path.join(dir, 'mailing-01.csv'), 'old part 1');
    await writeFile(path.join(dir, JOURNAL), JSON.stringify({ staging: path.basename(staging), files: ['mailing.csv'], remove: ['mailing-01.csv', 'mailing-02.csv'] }));
    await recoverInterruptedPublish(dir);
    expect(await list(dir)).toEqual(['mailing.csv']);
    expect(await readFile(path.join(dir, 'mailing.csv'), 'utf8')).toBe('new');
  });

  it('a rename that fails twice says the second failure: the retry goes through its own test points (CRM_TEST_FAIL_AT=publish-retry:1)', async () => {
    const dir = await tempDir();
    // The first pass fails for real on customers.csv (a folder in its place); the retry, at the point before its first rename.
    await mkdir(path.join(dir, 'customers.csv', 'inside'), { recursive: true });
    const set = await OutputSet.begin(dir, '7-ab');
    await writeFile(set.staged('customers.csv'), 'new customers');
    process.env.CRM_TEST_FAIL_AT = 'publish-retry:1';
    try {
      await expect(set.publish(['customers.csv'])).rejects.toThrow(`could not all be moved into place in ${dir} (test failure at publish-retry:1);`);
    } finally {
      delete process.env.CRM_TEST_FAIL_AT;
    }
  });

  it('a first pass stopped before its second rename (CRM_TEST_FAIL_AT=publish-rename:2) is finished by the retry', async () => {
    const dir = await tempDir();
    const set = await OutputSet.begin(dir, '7-ab');
    for (const name of ['a.csv', 'b.csv']) await writeFile(set.staged(name), name);
    process.env.CRM_TEST_FAIL_AT = 'publish-rename:2';
    try {
      await set.publish(['a.csv', 'b.csv']);
    } finally {
      delete process.env.CRM_TEST_FAIL_AT;
    }
    expect(await list(dir)).toEqual([JOURNAL, 'a.csv', 'b.csv']);
  });
});

describe('recoverInterruptedPublish', () => {
  it('finishes the renames listed in the journal (some already done), returns it, then removes the journal (it names no history run) and the staging folder', async () => {
    const dir = await tempDir();
    const staging = path.join(dir, `.crm-staging-${process.pid}-ab`);
    await mkdir(staging);
    await writeFile(path.join(dir, 'customers.csv'), 'new customers'); // moved before the kill
    await writeFile(path.join(staging, 'summary.json'), 'new summary'); // not yet
    await writeFile(path.join(dir, 'summary.json'), 'old summary');
    await writeFile(path.join(dir, JOURNAL), JSON.stringify({ staging: path.basename(staging), files: ['customers.csv', 'summary.json'] }));
    expect(await recoverInterruptedPublish(dir)).toEqual({ staging: path.basename(staging), files: ['customers.csv', 'summary.json'] });
    expect(await list(dir)).toEqual(['customers.csv', 'summary.json']);
    expect(await readFile(path.join(dir, 'customers.csv'), 'utf8')).toBe('new customers');
    expect(await readFile(path.join(dir, 'summary.json'), 'utf8')).toBe('new summary');
  });

  it('without a journal: nothing to finish (null), and no folder at all is not an error', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'customers.csv'), 'old customers');
    expect(await recoverInterruptedPublish(dir)).toBe(null);
    expect(await list(dir)).toEqual(['customers.csv']);
    expect(await recoverInterruptedPublish(path.join(dir, 'missing'))).toBe(null);
  });

  it('a journal that cannot be read as JSON is an error, not a publish taken as done', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, JOURNAL), '{"staging": ');
    await expect(recoverInterruptedPublish(dir)).rejects.toThrow(SyntaxError);
  });

  it('removes the staging folders of dead processes only: not its own, not a live process’s, not other names', async () => {
    const dir = await tempDir();
    const dead = await deadPid();
    const names = [
      `.crm-staging-${dead}-ab`, // removed
      `.crm-staging-${process.pid}-ab`, // this process
      `.crm-staging-${process.ppid}-ab`, // a live process
      `.crm-staging-x${dead}-ab`, // not the pattern
      `crm-staging-${dead}-ab`, // not the pattern
      `.crm-staging-${dead}`, // no run tag
    ];
    for (const name of names) await mkdir(path.join(dir, name));
    expect(await recoverInterruptedPublish(dir)).toBe(null);
    expect(await list(dir)).toEqual(names.slice(1).sort());
  });
});

describe('isAlive', () => {
  it('is true for this process and false for one that has exited', async () => {
    expect(isAlive(process.pid)).toBe(true);
    expect(isAlive(await deadPid())).toBe(false);
  });
});

describe('the publish journal', () => {
  it('is committed only once the journal is written; the journal names the run when there is one', async () => {
    const dir = await tempDir();
    const plain = await OutputSet.begin(dir, '7-ab');
    expect(plain.committed).toBe(false);
    await writeFile(plain.staged('customers.csv'), 'x');
    await plain.publish(['customers.csv']);
    expect(plain.committed).toBe(true);
    expect(JSON.parse(await readFile(path.join(dir, JOURNAL), 'utf8'))).toEqual({ staging: '.crm-staging-7-ab', files: ['customers.csv'] });
    await plain.finish();
    const withRun = await OutputSet.begin(dir, '8-cd');
    await writeFile(withRun.staged('customers.csv'), 'y');
    await withRun.publish(['customers.csv'], { id: 8, db: '/data/crm.duckdb' });
    expect(JSON.parse(await readFile(path.join(dir, JOURNAL), 'utf8'))).toEqual({ staging: '.crm-staging-8-cd', files: ['customers.csv'], run: { id: 8, db: '/data/crm.duckdb' } });
  });

  it('finish and abandon may be called again: what they remove is already gone', async () => {
    const dir = await tempDir();
    const set = await OutputSet.begin(dir, '7-ab');
    await writeFile(set.staged('customers.csv'), 'x');
    await set.publish(['customers.csv']);
    await set.finish();
    await set.finish();
    await set.abandon();
    expect(await list(dir)).toEqual(['customers.csv']);
  });

  it('a journal naming a history run stays after the files are moved, for the history to mark the run published', async () => {
    const dir = await tempDir();
    const staging = path.join(dir, `.crm-staging-${process.pid}-ab`);
    await mkdir(staging);
    await writeFile(path.join(staging, 'customers.csv'), 'new customers');
    const journal = { staging: path.basename(staging), files: ['customers.csv'], run: { id: 3, db: 'crm.duckdb' } };
    await writeFile(path.join(dir, JOURNAL), JSON.stringify(journal));
    expect(await recoverInterruptedPublish(dir)).toEqual(journal);
    expect(await list(dir)).toEqual([JOURNAL, 'customers.csv']);
  });

  it('finishing a journal whose files were all moved and whose staging folder is gone already is not an error', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'customers.csv'), 'new customers');
    await writeFile(path.join(dir, JOURNAL), JSON.stringify({ staging: `.crm-staging-${process.pid}-ab`, files: ['customers.csv'] }));
    expect(await recoverInterruptedPublish(dir)).toEqual({ staging: `.crm-staging-${process.pid}-ab`, files: ['customers.csv'] });
    expect(await list(dir)).toEqual(['customers.csv']);
  });

  it('a dead process\'s staging folder is named .crm-staging-<pid>-…, from the start of the name', async () => {
    const dir = await tempDir();
    const dead = await deadPid();
    await mkdir(path.join(dir, `x.crm-staging-${dead}-ab`));
    await mkdir(path.join(dir, `.crm-staging-${dead}-ab`));
    await recoverInterruptedPublish(dir);
    expect(await list(dir)).toEqual([`x.crm-staging-${dead}-ab`]);
  });
});

describe('writeFileAtomic and the temp files of killed processes', () => {
  it('removes .crm-<pid>-<8 hex>.tmp files of dead processes in the target folder, and nothing else', async () => {
    const dir = await tempDir();
    const dead = await deadPid();
    const names = [
      `.crm-${dead}-0a1b2c3d.tmp`, // removed
      `.crm-${process.ppid}-0a1b2c3d.tmp`, // a live process
      `x.crm-${dead}-0a1b2c3d.tmp`, // not from the start
      `.crm-${dead}-0a1b2c3.tmp`, // 7 hex digits
      `.crm-${dead}-0a1b2c3z.tmp`, // not hex
      `.crm-p${dead}-0a1b2c3d.tmp`, // no pid
    ];
    for (const name of names) await writeFile(path.join(dir, name), 'left over');
    await writeFileAtomic(path.join(dir, 'report.html'), 'new');
    expect(await list(dir)).toEqual([...names.slice(1), 'report.html'].sort());
  });
});
