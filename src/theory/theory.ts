import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { compareUpdates, type MeanInterval, meanInterval } from '../analysis/similarity.js';
import { runJob } from '../bridge/index.js';
import { pyNumber } from '../bridge/protocol.js';
import { LocalsslError } from '../errors.js';
import { renderLinePlot } from '../report/svg-plot.js';
import { readSafetensors } from '../tensors/index.js';

export const THEORY_EXPERIMENTS = ['fig2', 'fig3a', 'fig3b', 'fig4b', 'theorems'] as const;
export type TheoryExperiment = (typeof THEORY_EXPERIMENTS)[number];

const statSchema = z.looseObject({
  mean: pyNumber,
  ci95: pyNumber,
  values: z.array(pyNumber).optional(),
});

const layerSchema = z.looseObject({
  layer: z.number(),
  weight_cos: statSchema,
  error_cos: statSchema,
  b_residual: z.looseObject({ max: pyNumber, median: pyNumber }).nullable().optional(),
});

const variantSchema = z.looseObject({
  label: z.string(),
  settings: z.record(z.string(), z.unknown()),
  n_batches: z.number(),
  layers: z.array(layerSchema),
  epochs: z.array(z.looseObject({ epoch: z.number(), layers: z.array(layerSchema) })).optional(),
});

const checkSchema = z.looseObject({ passed: z.boolean() });

/** result.json of a theory experiment, as the Python lab writes it. */
export const theoryResultSchema = z.looseObject({
  format: z.literal('localssl-theory-result/1'),
  experiment: z.enum(THEORY_EXPERIMENTS),
  scale: z.enum(['paper', 'smoke']),
  seed: z.number(),
  variants: z.record(z.string(), variantSchema),
  checks: z.record(z.string(), checkSchema).optional(),
  passed: z.boolean().optional(),
  seconds: z.number(),
});

export type TheoryResult = z.infer<typeof theoryResultSchema>;

/** One variant's per-layer similarity of local and backprop weight updates, from the tensors. */
export interface VariantAlignment {
  name: string;
  label: string;
  /** Batches whose gradients the file holds (all of them, except in fig3b's sample). */
  batches: number;
  /** Batches the Python side measured (equal to `batches` unless the file holds a sample). */
  measuredBatches: number;
  layers: { layer: number; cosine: MeanInterval; cosines: number[]; pythonCosines: number[] }[];
}

export interface TheoryReport {
  experiment: TheoryExperiment;
  scale: 'paper' | 'smoke';
  outDir: string;
  variants: VariantAlignment[];
  result: TheoryResult;
  /** Paths of the SVG plots written. */
  plots: string[];
}

export interface TheoryOptions {
  scale?: 'paper' | 'smoke';
  seed?: number;
  /** Output folder. @default runs/theory-<experiment>-<scale> */
  outDir?: string;
  signal?: AbortSignal;
  onEvent?: (event: { event: string; [key: string]: unknown }) => void;
  onLog?: (line: string) => void;
  python?: string;
}

/** Recompute every variant's per-layer cosines from gradients.safetensors. */
export async function alignmentFromGradients(
  outDir: string,
  result: TheoryResult,
): Promise<VariantAlignment[]> {
  const path = join(outDir, 'gradients.safetensors');
  const tensors = await readSafetensors(path);
  const variants: VariantAlignment[] = [];
  for (const [name, variant] of Object.entries(result.variants)) {
    const layers = variant.layers.map((entry) => {
      const cosines: number[] = [];
      for (let b = 0; ; b += 1) {
        const local = tensors.get(`${name}/layer${entry.layer}/batch${b}/local`);
        const bp = tensors.get(`${name}/layer${entry.layer}/batch${b}/bp`);
        if (local === undefined || bp === undefined) break;
        if (!(local.data instanceof Float32Array) || !(bp.data instanceof Float32Array)) {
          throw new LocalsslError('E_TENSOR', `${path}: ${name} layer ${entry.layer} is not float`);
        }
        cosines.push(compareUpdates(local.data, bp.data).cosine);
      }
      const pythonCosines = entry.weight_cos.values ?? [];
      return { layer: entry.layer, cosine: meanInterval(cosines), cosines, pythonCosines };
    });
    const batches = layers[0]?.cosines.length ?? 0;
    if (batches === 0) {
      throw new LocalsslError('E_TENSOR', `${path}: no gradients for variant ${name}`);
    }
    variants.push({
      name,
      label: variant.label,
      batches,
      measuredBatches: variant.n_batches,
      layers,
    });
  }
  return variants;
}

function plots(outDir: string, report: Omit<TheoryReport, 'plots'>): string[] {
  const written: string[] = [];
  const byLayer = join(outDir, `${report.experiment}-layers.svg`);
  writeFileSync(
    byLayer,
    renderLinePlot({
      title: `${report.experiment}: local against backprop weight updates`,
      xLabel: 'layer',
      yLabel: 'cosine similarity (mean, 95 % interval)',
      series: report.variants.map((v) => ({
        name: v.label,
        points: v.layers.map((l) => ({ x: l.layer, y: l.cosine.mean, error: l.cosine.halfWidth })),
      })),
    }),
  );
  written.push(byLayer);

  // Figure 3b also follows the alignment through training (per epoch, as Python measured it).
  const trained = Object.entries(report.result.variants).filter(([, v]) => v.epochs?.length);
  if (trained.length > 0) {
    const byEpoch = join(outDir, `${report.experiment}-epochs.svg`);
    const layerCount = trained[0]![1].layers.length;
    writeFileSync(
      byEpoch,
      renderLinePlot({
        title: `${report.experiment}: mean alignment, layers 1-${layerCount - 1}, in training`,
        xLabel: 'epoch',
        yLabel: 'cosine similarity',
        series: trained.map(([, v]) => ({
          name: v.label,
          points: (v.epochs ?? []).map((e) => ({
            x: e.epoch,
            y: meanInterval(e.layers.slice(0, -1).map((l) => l.weight_cos.mean)).mean,
          })),
        })),
      }),
    );
    written.push(byEpoch);
  }
  return written;
}

/**
 * Run a theory-lab experiment (paper-spec 11) in a child process, then recompute the reported
 * similarities here from its gradient tensors and plot them.
 */
export async function theory(
  experiment: TheoryExperiment,
  options: TheoryOptions = {},
): Promise<TheoryReport> {
  const scale = options.scale ?? 'paper';
  const outDir = resolve(options.outDir ?? join('runs', `theory-${experiment}-${scale}`));
  mkdirSync(outDir, { recursive: true });
  const args = [
    'theory',
    experiment,
    '--out',
    outDir,
    '--scale',
    scale,
    '--seed',
    String(options.seed ?? 0),
  ];
  await runJob({
    args,
    ...(options.python === undefined ? {} : { python: options.python }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    onStderr: options.onLog ?? (() => {}),
    onEvent: (event) => options.onEvent?.(event),
  });
  return readTheoryReport(outDir);
}

/** Read a finished experiment's folder and recompute its similarities. */
export async function readTheoryReport(outDir: string): Promise<TheoryReport> {
  const path = join(outDir, 'result.json');
  if (!existsSync(path)) throw new LocalsslError('E_RUN', `${outDir}: no theory result.json`);
  const parsed = theoryResultSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) {
    throw new LocalsslError('E_RUN', `${path}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  }
  const result = parsed.data;
  const base = {
    experiment: result.experiment,
    scale: result.scale,
    outDir,
    variants: await alignmentFromGradients(outDir, result),
    result,
  };
  const report = { ...base, plots: plots(outDir, base) };
  writeFileSync(join(outDir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  return report;
}
