import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { align, liveAlignment, readAlignmentGradients } from '../../src/align/align.js';
import { loadConfig, parseOverride } from '../../src/config/load.js';
import { closeEngine } from '../../src/engine.js';
import { train } from '../../src/run/train.js';

const GOOD = join(import.meta.dirname, '../fixtures/configs/good.yaml');
const runsDir = mkdtempSync(join(tmpdir(), 'localssl-align-'));
let runDir = '';

beforeAll(async () => {
  const config = loadConfig(GOOD, [
    parseOverride('train.maxStepsPerEpoch=4'),
    parseOverride('train.alignEverySteps=2'),
  ]);
  runDir = (await train(config, { runsDir })).runDir;
});

afterAll(closeEngine);

describe('align', () => {
  it('reports similarities computed in TypeScript that equal Python’s to 1e-6', async () => {
    const report = await align(runDir, { batches: 2 });
    const { meta } = await readAlignmentGradients(report.dir);
    expect(report.layers).toHaveLength(6);
    for (const layer of report.layers) {
      layer.cosines.forEach((cosine, b) => {
        const python = meta.python_cosines[b]![layer.layer - 1]!;
        expect(Math.abs(cosine - python)).toBeLessThan(1e-6);
      });
    }
    // The top layer's local loss is the loss backprop starts from: identical by construction.
    const top = report.layers.at(-1)!;
    expect(top.cosine.mean).toBeCloseTo(1, 6);
    expect(top.normRatio.mean).toBeCloseTo(1, 6);
    expect(existsSync(join(report.dir, 'layers.svg'))).toBe(true);
    expect(JSON.parse(readFileSync(join(report.dir, 'align.json'), 'utf8')).layers).toHaveLength(6);
  });

  it('uses the same seeded views and draws every time', async () => {
    const first = await readAlignmentGradients((await align(runDir, { batches: 2 })).dir);
    const second = await readAlignmentGradients((await align(runDir, { batches: 2 })).dir);
    expect(second.meta.inputs).toEqual(first.meta.inputs);
    expect(new Set(first.meta.inputs.map((i) => i.views)).size).toBe(2);
    expect(second.gradients[0]!.local[0]).toEqual(first.gradients[0]!.local[0]);
  });

  it('recorded live alignment during training, with its cost', () => {
    const events = liveAlignment(runDir);
    expect(events.map((e) => e.global_step)).toEqual([2, 4]);
    expect(events[0]!.cosines).toHaveLength(6);
    expect(events[0]!.cosines[5]).toBeCloseTo(1, 6);
    expect(events[0]!.cost_ms).toBeGreaterThan(0);
  });

  it('names the mismatch when the run’s config no longer fits its checkpoint', async () => {
    const path = join(runDir, 'config.json');
    const original = readFileSync(path, 'utf8');
    const config = JSON.parse(original);
    config.model.widthMultiplier = 0.125;
    writeFileSync(path, JSON.stringify(config));
    try {
      await expect(align(runDir, { batches: 1 })).rejects.toThrow(
        new RegExp(
          String.raw`epoch-0001: encoder\.layers\.0\.0\.weight has shape \(8, 1, 3, 3\), ` +
            String.raw`the model built from this config expects \(16, 1, 3, 3\)`,
        ),
      );
    } finally {
      writeFileSync(path, original);
    }
  });
});
