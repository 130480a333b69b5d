/**
 * Comparisons of two weight updates (or error signals) given as flat arrays: cosine similarity,
 * norm ratio and sign agreement, accumulated in float64 so that million-element layers lose no
 * precision. These are the numbers localssl reports; Python computes the same ones only so a
 * test can check the two agree.
 */

export type Vector = Float32Array | Float64Array;

/** The three comparisons of `local` against `reference` (backprop). */
export interface UpdateComparison {
  /** cos(local, reference); NaN when either vector is zero. */
  cosine: number;
  /** ‖local‖ / ‖reference‖. */
  normRatio: number;
  /** Fraction of elements whose signs agree (zeros agree only with zeros). */
  signAgreement: number;
}

/** Compare two updates of the same shape in one pass over the data. */
export function compareUpdates(local: Vector, reference: Vector): UpdateComparison {
  if (local.length !== reference.length) {
    throw new RangeError(`cannot compare ${local.length} elements with ${reference.length}`);
  }
  let dot = 0;
  let localSq = 0;
  let referenceSq = 0;
  let agree = 0;
  for (let i = 0; i < local.length; i += 1) {
    const a = local[i]!;
    const b = reference[i]!;
    dot += a * b;
    localSq += a * a;
    referenceSq += b * b;
    if (Math.sign(a) === Math.sign(b)) agree += 1;
  }
  const norms = Math.sqrt(localSq) * Math.sqrt(referenceSq);
  return {
    cosine: norms > 0 ? dot / norms : Number.NaN,
    normRatio: referenceSq > 0 ? Math.sqrt(localSq / referenceSq) : Number.NaN,
    signAgreement: local.length > 0 ? agree / local.length : Number.NaN,
  };
}

/** Mean and 95 % interval half-width (1.96 standard errors) of repeated measurements. */
export interface MeanInterval {
  mean: number;
  halfWidth: number;
  n: number;
}

/** Mean ± 1.96·std/√n over the finite values; the sample std uses n − 1. */
export function meanInterval(values: readonly number[]): MeanInterval {
  const finite = values.filter(Number.isFinite);
  const n = finite.length;
  if (n === 0) return { mean: Number.NaN, halfWidth: Number.NaN, n };
  const mean = finite.reduce((sum, v) => sum + v, 0) / n;
  if (n === 1) return { mean, halfWidth: 0, n };
  const variance = finite.reduce((sum, v) => sum + (v - mean) ** 2, 0) / (n - 1);
  return { mean, halfWidth: (1.96 * Math.sqrt(variance)) / Math.sqrt(n), n };
}
