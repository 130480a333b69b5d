import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { pyNumber } from '../bridge/protocol.js';
import type { Config } from '../config/schema.js';
import type { ProbeResult, TrainResult } from '../run/events.js';
import { openRun, type Run, readJson } from '../run/run-dir.js';

/** knn.json, as localssl.evaluate.knn_result writes it. */
export const knnResultSchema = z.looseObject({
  checkpoint: z.string(),
  feature_dim: z.number(),
  bank_images: z.number(),
  test_images: z.number(),
  temperature: z.number(),
  results: z.array(z.looseObject({ k: z.number(), k_used: z.number(), test_top1: pyNumber })),
});

/** probe-layers.json, as localssl.evaluate.LayerProbes.result writes it. */
export const layerProbesSchema = z.looseObject({
  checkpoint: z.string(),
  epochs: z.number(),
  layers: z.array(
    z.looseObject({
      layer: z.number(),
      feature_dim: z.number(),
      pool: z.number(),
      test_top1: pyNumber,
      best_test_top1: pyNumber,
      best_epoch: z.number(),
    }),
  ),
});

export type KnnResult = z.infer<typeof knnResultSchema>;
export type LayerProbesResult = z.infer<typeof layerProbesSchema>;

/** What one finished run of a cell measured. */
export interface RunMeasurement {
  runDir: string;
  seed: number;
  config: Config;
  train: TrainResult;
  probe: ProbeResult;
  knn: KnnResult | undefined;
  layers: LayerProbesResult | undefined;
}

// Where the data sits, and which device or how many threads ran it, do not change what a run
// measured; everything else in the config does.
function setupKey(config: Config): string {
  const { data, device: _device, threads: _threads, seed: _seed, ...rest } = config;
  const { root: _root, ...dataRest } = data;
  return canonical({ ...rest, data: dataRest });
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Whether two configs describe the same experiment (seed, data location and device aside). */
export function sameSetup(a: Config, b: Config): boolean {
  return setupKey(a) === setupKey(b);
}

/** The run directories directly under `runsDir` whose config is `config`'s setup at `seed`. */
export function findRuns(runsDir: string, config: Config, seed: number): Run[] {
  const root = resolve(runsDir);
  if (!existsSync(root)) return [];
  const found: Run[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (!entry.isDirectory() || !entry.name.startsWith(`${config.name}-`)) continue;
    const dir = join(root, entry.name);
    if (!existsSync(join(dir, 'config.json'))) continue;
    const run = openRun(dir);
    if (run.config.seed === seed && sameSetup(run.config, config)) found.push(run);
  }
  // Newest last: run directory names end in their start time.
  return found.sort((a, b) => (a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0));
}

/**
 * The measurement of a run when it is complete: trained, probed, and with the k-NN and per-layer
 * results its config asks for; undefined otherwise.
 */
export function measurement(run: Run): RunMeasurement | undefined {
  if (run.train === undefined || run.probe === undefined) return undefined;
  const knn = readJson(join(run.dir, 'knn.json'), knnResultSchema);
  const layers = readJson(join(run.dir, 'probe-layers.json'), layerProbesSchema);
  if ((run.config.probe.knn && knn === undefined) || (run.config.probe.perLayer && !layers)) {
    return undefined;
  }
  return {
    runDir: run.dir,
    seed: run.config.seed,
    config: run.config,
    train: run.train,
    probe: run.probe,
    knn,
    layers,
  };
}
