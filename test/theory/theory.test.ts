import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { theory } from '../../src/theory/theory.js';

const out = mkdtempSync(join(tmpdir(), 'localssl-theory-'));

describe('theory lab, smoke scale, through the real engine', () => {
  it('fig2: TypeScript cosines equal Python’s to 1e-6; Theorem 3.1 holds', async () => {
    const report = await theory('fig2', { scale: 'smoke', outDir: join(out, 'fig2') });
    const names = report.variants.map((v) => v.name);
    expect(names).toEqual([
      'all_assumptions',
      'random_b',
      'non_orthogonal',
      'relu_orthogonal',
      'relu_default',
    ]);
    for (const variant of report.variants) {
      expect(variant.batches).toBe(variant.measuredBatches);
      for (const layer of variant.layers) {
        expect(layer.cosines).toHaveLength(layer.pythonCosines.length);
        layer.cosines.forEach((c, b) => {
          expect(Math.abs(c - layer.pythonCosines[b]!)).toBeLessThan(1e-6);
        });
      }
    }

    // With every assumption the local update is backprop's in every layer ...
    const exact = report.variants[0]!;
    for (const layer of exact.layers) expect(layer.cosine.mean).toBeGreaterThan(0.9999);
    // ... and without orthogonal weights, or with random B, it visibly is not below the top.
    for (const name of ['random_b', 'non_orthogonal']) {
      const variant = report.variants.find((v) => v.name === name)!;
      expect(variant.layers[0]!.cosine.mean).toBeLessThan(0.9);
      expect(variant.layers.at(-1)!.cosine.mean).toBeCloseTo(1, 6);
    }
    expect(existsSync(join(out, 'fig2', 'fig2-layers.svg'))).toBe(true);
  });

  it('theorems: every check passes with its numbers', async () => {
    const report = await theory('theorems', { scale: 'smoke', outDir: join(out, 'theorems') });
    expect(report.result.passed).toBe(true);
    expect(Object.keys(report.result.checks ?? {})).toEqual([
      'theorem_3_1',
      'theorem_3_3',
      'proposition_3_5',
    ]);
    const thm31 = report.result.checks?.theorem_3_1 as { min_weight_cos: number } | undefined;
    expect(thm31?.min_weight_cos).toBeGreaterThan(0.9999);
  });
});
