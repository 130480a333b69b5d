import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../../src/bridge/python-path.js';

const MAIN = join(PACKAGE_ROOT, 'src', 'cli', 'main.ts');

function localssl(args: string[]) {
  return execa('node', ['--import', 'tsx', MAIN, ...args], {
    reject: false,
    cwd: PACKAGE_ROOT,
    env: { FORCE_COLOR: '0' },
  });
}

const METHODS = ['CLAPP++', 'CLAPP++DFB', 'CLAPP++both', 'BP-CLAPP++', 'BP-InfoNCE'];
const PAPER = ['80.51', '80.65', '81.18', '80.49', '80.69'];

describe('localssl table main --scale smoke, CIFAR-10 column, end to end', () => {
  it('trains and probes every cell on synthetic CIFAR-10, then collects them again', async () => {
    const runs = mkdtempSync(join(tmpdir(), 'localssl-table-'));
    const first = await localssl(['table', 'main', '--runs', runs, '--dataset', 'cifar10']);
    expect(first.stderr).not.toMatch(/localssl: /);
    expect(first.exitCode).toBe(0);

    const lines = first.stdout.split('\n');
    expect(lines[0]).toMatch(/^SMOKE SCALE: a mechanics check on synthetic data, NOT a repro/);
    for (const [i, method] of METHODS.entries()) {
      const row = lines.find((line) => line.startsWith(`${method} `));
      expect(row, method).toBeDefined();
      const cells = row!.split(/\s{2,}/);
      expect(cells.slice(1, 3)).toEqual(['CIFAR-10', PAPER[i]]);
      expect(Number(cells[3])).toBeGreaterThanOrEqual(0);
      expect(cells[4]).toMatch(/^[+-]\d+\.\d\d$/);
      expect(cells[6]).toBe('1');
      expect(cells[7]).toMatch(/^L1-6 1024-d, last of 5 ep, aug crop 0\.08-1\+flip; SSL 1 ep/);
    }
    expect(first.stdout).toContain('k-NN: cosine, exp(s/0.07), bank 60 un-aug, k<=60');
    const made = readdirSync(runs).filter((name) => name.startsWith('paper-'));
    expect(made).toHaveLength(5);

    // Everything is there now: --no-run only collects, and finds the same numbers.
    const again = await localssl([
      'table',
      'main',
      '--runs',
      runs,
      '--dataset',
      'cifar10',
      '--no-run',
      '--json',
    ]);
    expect(again.exitCode).toBe(0);
    const report = JSON.parse(again.stdout);
    expect(report.cells).toHaveLength(5);
    const measured = report.cells.map((c: { linear: { mean: number } }) =>
      c.linear.mean.toFixed(2),
    );
    const printed = METHODS.map(
      (m) => lines.find((l) => l.startsWith(`${m} `))!.split(/\s{2,}/)[3],
    );
    expect(measured).toEqual(printed);
    expect(readdirSync(runs).filter((name) => name.startsWith('paper-'))).toHaveLength(5);
  });

  it('refuses the paper scale without data before running anything', async () => {
    const runs = mkdtempSync(join(tmpdir(), 'localssl-table-'));
    const result = await localssl([
      'table',
      'ablation',
      '--scale',
      'paper',
      '--runs',
      runs,
      '--method',
      'clapp-pp',
    ]);
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toBe(
      'localssl: clapp-pp/stl10 needs the real stl10: pass --data-root DIR, the folder holding ' +
        'cifar-10-batches-py/, stl10_binary/ or tiny-imagenet-200/ (`localssl data download ' +
        'stl10 --root DIR` fetches it)',
    );
    expect(readdirSync(runs)).toEqual([]);
  });
});
