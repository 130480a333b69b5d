/** Mean and spread of one number measured over several seeds. */
export interface Stat {
  mean: number;
  /** Sample standard deviation (n - 1); undefined for a single value. */
  std: number | undefined;
  n: number;
  values: number[];
}

/** The statistics of `values`; undefined when there are none. */
export function stat(values: readonly number[]): Stat | undefined {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return undefined;
  const n = finite.length;
  const mean = finite.reduce((a, b) => a + b, 0) / n;
  const std =
    n > 1 ? Math.sqrt(finite.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : undefined;
  return { mean, std, n, values: [...finite] };
}

/** "80.12", "80.12 ± 0.31", or "-" for nothing. */
export function formatStat(value: Stat | undefined, digits = 2): string {
  if (value === undefined) return '-';
  const mean = value.mean.toFixed(digits);
  return value.std === undefined ? mean : `${mean} ± ${value.std.toFixed(digits)}`;
}

/** "+0.31", "-1.20", or "-" when either side is missing. */
export function formatDiff(measured: Stat | undefined, paper: number, digits = 2): string {
  if (measured === undefined) return '-';
  const diff = measured.mean - paper;
  return `${diff >= 0 ? '+' : ''}${diff.toFixed(digits)}`;
}
