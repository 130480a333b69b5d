import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { z } from 'zod';
import { compareUpdates, type MeanInterval, meanInterval } from '../analysis/similarity.js';
import { pyNumber } from '../bridge/protocol.js';
import { LocalsslError } from '../errors.js';
import { renderLinePlot } from '../report/svg-plot.js';
import { type EventOf, runEventSchema } from '../run/events.js';
import { openRun, writeFileAtomic } from '../run/run-dir.js';
import { type JobOptions, runRunJob } from '../run/train.js';
import { readSafetensors, type Tensor } from '../tensors/index.js';

const metaSchema = z.object({
  checkpoint: z.string(),
  batches: z.number(),
  batch_size: z.number(),
  layers: z.number(),
  split: z.string(),
  inputs: z.array(z.object({ images: z.string(), views: z.string(), draw: z.string() })),
  python_cosines: z.array(z.array(pyNumber.nullable())),
  seconds: z.number(),
});

export type AlignMeta = z.infer<typeof metaSchema>;

/** One layer's comparison of the local update with backprop's, over the batches. */
export interface LayerAlignment {
  /** 1-based layer number. */
  layer: number;
  cosine: MeanInterval;
  normRatio: MeanInterval;
  signAgreement: MeanInterval;
  /** Per batch, for users' own statistics. */
  cosines: number[];
}

/** The alignment of one run at one checkpoint. */
export interface AlignmentReport {
  runDir: string;
  name: string;
  checkpoint: string;
  batches: number;
  layers: LayerAlignment[];
  /** Where gradients.safetensors, meta.json, align.json and the plot are. */
  dir: string;
}

/** Per layer, the local and backprop weight updates of each batch, as float32 typed arrays. */
export interface LayerGradients {
  layer: number;
  shape: number[];
  local: Float32Array[];
  bp: Float32Array[];
}

function f32(tensor: Tensor | undefined, key: string, path: string): Float32Array {
  if (tensor === undefined) throw new LocalsslError('E_TENSOR', `${path}: no tensor ${key}`);
  if (!(tensor.data instanceof Float32Array)) {
    throw new LocalsslError('E_TENSOR', `${path}: ${key} is ${tensor.dtype}, expected float`);
  }
  return tensor.data;
}

/** Read an alignment folder's gradients: per layer with a local loss, both updates per batch. */
export async function readAlignmentGradients(dir: string): Promise<{
  meta: AlignMeta;
  gradients: LayerGradients[];
}> {
  const metaPath = join(dir, 'meta.json');
  if (!existsSync(metaPath)) throw new LocalsslError('E_RUN', `${dir}: no alignment (meta.json)`);
  const meta = metaSchema.parse(JSON.parse(readFileSync(metaPath, 'utf8')));
  const path = join(dir, 'gradients.safetensors');
  const tensors = await readSafetensors(path);

  const gradients: LayerGradients[] = [];
  for (let layer = 0; layer < meta.layers; layer += 1) {
    if (!tensors.has(`batch0.layer${layer}.local`)) continue;
    const entry: LayerGradients = { layer: layer + 1, shape: [], local: [], bp: [] };
    for (let b = 0; b < meta.batches; b += 1) {
      const key = `batch${b}.layer${layer}`;
      entry.local.push(f32(tensors.get(`${key}.local`), `${key}.local`, path));
      entry.bp.push(f32(tensors.get(`${key}.bp`), `${key}.bp`, path));
      entry.shape = tensors.get(`${key}.bp`)?.shape ?? [];
    }
    gradients.push(entry);
  }
  return { meta, gradients };
}

/** Similarities per layer, computed here from the gradient tensors. */
export async function summarizeAlignment(gradients: readonly LayerGradients[]) {
  const layers: LayerAlignment[] = [];
  for (const entry of gradients) {
    const per = entry.local.map((local, b) => compareUpdates(local, entry.bp[b]!));
    layers.push({
      layer: entry.layer,
      cosine: meanInterval(per.map((c) => c.cosine)),
      normRatio: meanInterval(per.map((c) => c.normRatio)),
      signAgreement: meanInterval(per.map((c) => c.signAgreement)),
      cosines: per.map((c) => c.cosine),
    });
    // Large layers take tens of ms each: let the event loop (a progress bar) run in between.
    await yieldToEventLoop();
  }
  return layers;
}

export interface AlignOptions extends JobOptions {
  /** 'latest' or an epoch number. @default 'latest' */
  checkpoint?: 'latest' | number;
  /** Fixed batches to average over. @default 8 */
  batches?: number;
}

/**
 * Compare, layer by layer, the local update of a run's rule with the backprop update of its top
 * loss, on fixed batches with identical views and draws in both passes. Writes align.json and
 * layers.svg beside the gradients.
 */
export async function align(runDir: string, options: AlignOptions = {}): Promise<AlignmentReport> {
  const run = openRun(runDir);
  const checkpoint = options.checkpoint ?? 'latest';
  if (run.checkpoints.length === 0) {
    throw new LocalsslError('E_RUN', `${run.dir}: no checkpoint to align; train it first`);
  }
  if (typeof checkpoint === 'number' && !run.checkpoints.includes(checkpoint)) {
    throw new LocalsslError(
      'E_RUN',
      `${run.dir}: no checkpoint for epoch ${checkpoint} (have ${run.checkpoints.join(', ')})`,
    );
  }
  const batches = options.batches ?? 8;
  let out: string | undefined;
  await runRunJob(
    run.dir,
    [
      'align',
      '--run-dir',
      run.dir,
      '--checkpoint',
      String(checkpoint),
      '--batches',
      String(batches),
    ],
    {
      ...options,
      onEvent: (event) => {
        if (event.event === 'align_finished') out = event.path;
        options.onEvent?.(event);
      },
    },
  );
  if (out === undefined) throw new LocalsslError('E_RUN', `${run.dir}: align wrote no result`);

  const { meta, gradients } = await readAlignmentGradients(out);
  const report: AlignmentReport = {
    runDir: run.dir,
    name: run.config.name,
    checkpoint: meta.checkpoint,
    batches: meta.batches,
    layers: await summarizeAlignment(gradients),
    dir: out,
  };
  writeFileAtomic(join(out, 'align.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(out, 'layers.svg'), alignmentByLayerPlot([report]));
  return report;
}

/** Cosine against layer, one line per run. */
export function alignmentByLayerPlot(reports: readonly AlignmentReport[]): string {
  return renderLinePlot({
    title: 'Local update against backprop, per layer',
    xLabel: 'layer',
    yLabel: 'cosine similarity (mean, 95 % interval)',
    series: reports.map((r) => ({
      name: `${r.name} (${r.checkpoint})`,
      points: r.layers.map((l) => ({ x: l.layer, y: l.cosine.mean, error: l.cosine.halfWidth })),
    })),
  });
}

/** The `alignment` events a run recorded during training (train.alignEverySteps). */
export function liveAlignment(runDir: string): EventOf<'alignment'>[] {
  const path = join(openRun(runDir).dir, 'events.jsonl');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.includes('"alignment"'))
    .map((line) => runEventSchema.safeParse(JSON.parse(line)))
    .filter((r) => r.success && r.data.event === 'alignment')
    .map((r) => r.data as EventOf<'alignment'>);
}

/** Cosine against training step, one line per layer and run, from live alignment events. */
export function alignmentByStepPlot(runs: readonly { name: string; runDir: string }[]): string {
  const series = runs.flatMap(({ name, runDir }) => {
    const events = liveAlignment(runDir);
    const layers = events[0]?.cosines.length ?? 0;
    return Array.from({ length: layers }, (_, layer) => ({
      name: `${name} L${layer + 1}`,
      points: events.map((e) => ({ x: e.global_step, y: e.cosines[layer] ?? Number.NaN })),
    })).filter((s) => s.points.some((p) => Number.isFinite(p.y)));
  });
  return renderLinePlot({
    title: 'Local update against backprop during training',
    xLabel: 'step',
    yLabel: 'cosine similarity',
    series,
    integerX: false,
  });
}

/** Write the side-by-side plots of several runs into `dir`. */
export function writeComparison(dir: string, reports: readonly AlignmentReport[]): string[] {
  mkdirSync(dir, { recursive: true });
  const written = [join(dir, 'align-layers.svg')];
  writeFileSync(written[0]!, alignmentByLayerPlot(reports));
  const runs = reports.map((r) => ({ name: r.name, runDir: r.runDir }));
  if (runs.some((r) => liveAlignment(r.runDir).length > 0)) {
    written.push(join(dir, 'align-steps.svg'));
    writeFileSync(written[1]!, alignmentByStepPlot(runs));
  }
  return written;
}
