import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { loadPreset } from '../../src/config/presets.js';
import { checkConfig, closeEngine } from '../../src/engine.js';
import { loadPaperResults, PAPER_DIR, tableCells } from '../../src/tables/paper.js';

afterAll(closeEngine);

const presetFiles = readdirSync(PAPER_DIR)
  .filter((f) => f.endsWith('.yaml') && f !== 'results.yaml')
  .sort();

// The paper's eval pools per dataset (paper-spec 7.1); they give 32,768 probe features.
const POOLS: Record<string, number[]> = {
  cifar10: [4, 4, 4, 2, 2, 1],
  stl10: [12, 12, 12, 6, 6, 3],
  'tiny-imagenet': [8, 8, 8, 4, 4, 2],
};

describe('configs/paper/results.yaml', () => {
  it('lists every cell of both tables with its preset and number', () => {
    const results = loadPaperResults();
    const main = tableCells(results, 'main');
    expect(main).toHaveLength(15);
    expect(main.map((c) => c.id).slice(0, 3)).toEqual([
      'clapp-pp/cifar10',
      'clapp-pp/stl10',
      'clapp-pp/tiny-imagenet',
    ]);
    expect(main.find((c) => c.id === 'clapp-pp-both/cifar10')?.paper).toBe(81.18);
    const ablation = tableCells(results, 'ablation');
    expect(ablation.map((c) => [c.method, c.paper])).toEqual([
      ['clapp-pp-global', 75.1],
      ['clapp-pp', 78.66],
      ['clapp-pp-dfb', 79.38],
      ['clapp-pp-both', 79.62],
      ['bp-clapp-pp', 80.36],
    ]);
    const used = new Set(results.cells.map((c) => c.preset));
    expect([...used].sort()).toEqual(presetFiles);
  });

  it('filters by dataset and method, and names an unknown one', () => {
    const results = loadPaperResults();
    const cells = tableCells(results, 'main', { datasets: ['stl10'], methods: ['bp-infonce'] });
    expect(cells.map((c) => c.id)).toEqual(['bp-infonce/stl10']);
    expect(() => tableCells(results, 'ablation', { datasets: ['cifar10'] })).toThrow(
      '--dataset cifar10: not in the ablation table (stl10)',
    );
  });
});

describe('paper presets', () => {
  it.each(presetFiles)('%s has the paper settings and mirrors its rule preset', (file) => {
    const config = loadConfig(join(PAPER_DIR, file));
    const { dataset } = config.data;
    const method = file.replace(`-${dataset}.yaml`, '');
    expect(config.name).toBe(`paper-${method}-${dataset}`);
    expect(config.seed).toBe(2);
    expect(config.model.widthMultiplier).toBe(1);
    expect(config.train.epochs).toBe(300);
    expect(config.optimizer.lr).toBe(2e-4);
    expect(config.optimizer.weightDecay).toBe(dataset === 'tiny-imagenet' ? 1e-5 : 0);
    expect(config.probe).toMatchObject({ epochs: 300, batchSize: 32, lr: 1e-3, augment: true });
    expect(config.probe.pools).toEqual(POOLS[dataset]);
    expect(config.data.augmentation.cropScale).toEqual(
      dataset === 'cifar10' ? [0.25, 1] : [0.08, 1],
    );

    // The rule block is the rules preset's, with the dataset's loss pools.
    const rule = loadPreset(method).rule;
    const expected =
      rule.pooling.kind === 'patch'
        ? { ...rule, pooling: { kind: 'patch', kernels: POOLS[dataset] } }
        : rule;
    expect(config.rule).toEqual(expected);
  });

  it('all pass the engine check at full size (built on the meta device)', async () => {
    for (const file of presetFiles) {
      const config = loadConfig(join(PAPER_DIR, file));
      const check = await checkConfig(config, file);
      const dims = check.layer_shapes.map(
        ([c, h, w], i) =>
          c! * Math.floor(h! / check.probe_pools[i]!) * Math.floor(w! / check.probe_pools[i]!),
      );
      expect(
        dims.reduce((a, b) => a + b),
        file,
      ).toBe(32768);
      expect(check.encoder_parameters, file).toBe(16226816);
    }
  });
});
