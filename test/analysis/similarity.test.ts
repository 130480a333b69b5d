import { describe, expect, it } from 'vitest';
import { compareUpdates, meanInterval } from '../../src/analysis/similarity.js';

describe('compareUpdates', () => {
  it('gives cosine 1, ratio 2, full sign agreement for a positive multiple', () => {
    const a = new Float32Array([1, -2, 3]);
    const b = new Float32Array([2, -4, 6]);
    const result = compareUpdates(b, a);
    expect(result.cosine).toBeCloseTo(1, 12);
    expect(result.normRatio).toBeCloseTo(2, 12);
    expect(result.signAgreement).toBe(1);
  });

  it('matches a hand computation on orthogonal and opposite vectors', () => {
    expect(compareUpdates(new Float64Array([1, 0]), new Float64Array([0, 1])).cosine).toBe(0);
    const opposite = compareUpdates(new Float64Array([1, 2]), new Float64Array([-1, -2]));
    expect(opposite.cosine).toBeCloseTo(-1, 12);
    expect(opposite.signAgreement).toBe(0);
    // cos([3,4],[4,3]) = 24 / 25
    expect(compareUpdates(new Float64Array([3, 4]), new Float64Array([4, 3])).cosine).toBeCloseTo(
      0.96,
      12,
    );
  });

  it('returns NaN for a zero vector and refuses different lengths', () => {
    expect(compareUpdates(new Float32Array(3), new Float32Array([1, 2, 3])).cosine).toBeNaN();
    expect(() => compareUpdates(new Float32Array(2), new Float32Array(3))).toThrow(RangeError);
  });
});

describe('meanInterval', () => {
  it('is mean ± 1.96 s/√n with the n − 1 standard deviation', () => {
    const result = meanInterval([1, 2, 3, 4]);
    expect(result.mean).toBe(2.5);
    expect(result.halfWidth).toBeCloseTo((1.96 * Math.sqrt(5 / 3)) / 2, 12);
    expect(result.n).toBe(4);
  });

  it('ignores non-finite values and handles one or none', () => {
    expect(meanInterval([Number.NaN, 2])).toEqual({ mean: 2, halfWidth: 0, n: 1 });
    expect(meanInterval([]).mean).toBeNaN();
  });
});
