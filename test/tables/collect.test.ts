import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import { createRunDir } from '../../src/run/run-dir.js';
import { loadPaperResults, tableCells } from '../../src/tables/paper.js';
import { renderReport } from '../../src/tables/render.js';
import { reproduceTable } from '../../src/tables/reproduce.js';
import { sameSetup } from '../../src/tables/runs.js';
import { cellConfig, syntheticRootPath } from '../../src/tables/scale.js';
import { formatDiff, formatStat, stat } from '../../src/tables/stats.js';

const cell = tableCells(loadPaperResults(), 'main', {
  datasets: ['cifar10'],
  methods: ['clapp-pp'],
})[0]!;

function smokeConfig(runs: string, seed: number): Config {
  return cellConfig(cell, 'smoke', seed, syntheticRootPath('cifar10', runs));
}

/** A finished run directory as the engine leaves it, with made-up numbers. */
function fakeRun(runs: string, config: Config, top1: number, files = { knn: true, layers: true }) {
  const dir = createRunDir(runs, config);
  const json = (name: string, value: unknown) =>
    writeFileSync(join(dir, name), JSON.stringify(value));
  json('train.json', {
    epochs: 1,
    global_step: 3,
    final_loss: 12.04,
    train_seconds: 1,
    images_per_s: 50,
    device: 'cpu',
  });
  json('probe.json', {
    checkpoint: 'epoch-0001',
    test_top1: top1,
    best_test_top1: top1 + 1,
    best_epoch: 4,
    epochs: 5,
    feature_dim: 1024,
    pools: [4, 4, 4, 2, 2, 1],
    train_images: 60,
    test_images: 32,
    seconds: 1,
    protocol: { layers: [1, 2, 3, 4, 5, 6], reported: 'last epoch' },
  });
  if (files.knn) {
    json('knn.json', {
      checkpoint: 'epoch-0001',
      feature_dim: 1024,
      bank_images: 60,
      test_images: 32,
      temperature: 0.07,
      results: [
        { k: 20, k_used: 20, test_top1: top1 - 10 },
        { k: 200, k_used: 60, test_top1: top1 - 20 },
      ],
    });
  }
  if (files.layers) {
    json('probe-layers.json', {
      checkpoint: 'epoch-0001',
      epochs: 5,
      layers: [1, 2, 3, 4, 5, 6].map((layer) => ({
        layer,
        feature_dim: 128,
        pool: 4,
        test_top1: top1 - layer,
        best_test_top1: top1,
        best_epoch: 5,
      })),
    });
  }
  return dir;
}

describe('stat and its formats', () => {
  it('gives mean and sample std, and dashes for nothing', () => {
    const s = stat([80, 82, Number.NaN])!;
    expect([s.mean, s.std, s.n]).toEqual([81, Math.SQRT2, 2]);
    expect(formatStat(s)).toBe('81.00 ± 1.41');
    expect(formatStat(stat([79.5]))).toBe('79.50');
    expect(formatStat(stat([]))).toBe('-');
    expect(formatDiff(s, 80.51)).toBe('+0.49');
    expect(formatDiff(stat([79]), 80.51)).toBe('-1.51');
  });
});

describe('collecting finished runs', () => {
  it('averages the seeds of a cell and ignores other setups and unfinished runs', async () => {
    const runs = mkdtempSync(join(tmpdir(), 'localssl-tables-'));
    fakeRun(runs, smokeConfig(runs, 2), 40);
    fakeRun(runs, smokeConfig(runs, 3), 44);
    // Another width is another experiment; a run without k-NN results is not finished.
    const wider = smokeConfig(runs, 2);
    fakeRun(runs, { ...wider, model: { ...wider.model, widthMultiplier: 0.5 } }, 99);
    fakeRun(runs, smokeConfig(runs, 4), 99, { knn: false, layers: true });

    const report = await reproduceTable({
      table: 'main',
      datasets: ['cifar10'],
      methods: ['clapp-pp'],
      runsDir: runs,
      seeds: 3,
      run: false,
    });
    const [result] = report.cells;
    expect(result!.runs.map((r) => r.seed)).toEqual([2, 3]);
    expect(result!.missingSeeds).toEqual([4]);
    expect(formatStat(result!.linear)).toBe('42.00 ± 2.83');
    expect(formatStat(result!.linearBest)).toBe('43.00 ± 2.83');
    expect(result!.knn.map((k) => [k.k, k.kUsed, k.top1?.mean])).toEqual([
      [20, 20, 32],
      [200, 60, 22],
    ]);
    expect(result!.layers.map((l) => l?.mean)).toEqual([41, 40, 39, 38, 37, 36]);
    expect(result!.protocol.linear).toBe(
      'L1-6 1024-d, last of 5 ep, aug crop 0.08-1+flip; SSL 1 ep, loss 12.040',
    );
    expect(result!.protocol.knn).toBe('cosine, exp(s/0.07), bank 60 un-aug, k<=60');

    const lines = renderReport(report).split('\n');
    expect(lines[0]).toMatch(/^SMOKE SCALE: a mechanics check on synthetic data, NOT a repro/);
    const row = lines.find((line) => line.startsWith('CLAPP++ '))!;
    expect(row.split(/\s{2,}/)).toEqual([
      'CLAPP++',
      'CIFAR-10',
      '80.51',
      '42.00 ± 2.83',
      '-38.51',
      '43.00 ± 2.83',
      '2 (1 missing)',
      'L1-6 1024-d, last of 5 ep, aug crop 0.08-1+flip; SSL 1 ep, loss 12.040',
    ]);
    expect(lines).toContain('cells with missing seeds have no finished run under the runs folder.');
  });

  it('matches setups whatever the data location, device and threads', () => {
    const runs = mkdtempSync(join(tmpdir(), 'localssl-tables-'));
    const a = smokeConfig(runs, 2);
    const moved = { ...a, device: 'cuda' as const, threads: 7, data: { ...a.data, root: '/x' } };
    expect(sameSetup(a, moved)).toBe(true);
    expect(sameSetup(a, { ...a, probe: { ...a.probe, epochs: 6 } })).toBe(false);
  });
});
