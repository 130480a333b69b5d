import { parseOverride } from './config/load.js';
import { loadPreset } from './config/presets.js';
import type { RunEvent } from './run/events.js';
import { probe } from './run/probe.js';
import { train } from './run/train.js';

/** The demo's size: small enough for a 2-core CPU in a few minutes, per rule. */
export const DEMO_OVERRIDES = [
  'model.widthMultiplier=0.125',
  'data.trainSubset=4096',
  'train.epochs=2',
  'train.batchSize=32',
  'probe.epochs=15',
  'probe.augment=false',
  'probe.trainSubset=4000',
  'probe.testSubset=2000',
].map(parseOverride);

export const DEFAULT_DEMO_RULES = ['clapp-pp', 'bp-clapp-pp'] as const;

export interface DemoOptions {
  /** Preset names under configs/rules/. @default ['clapp-pp', 'bp-clapp-pp'] */
  rules?: readonly string[];
  /** Extra `path=value` overrides applied after the demo's own. */
  overrides?: readonly string[];
  runsDir?: string;
  signal?: AbortSignal;
  /** Events of every job, tagged with the method they belong to. */
  onEvent?: (method: string, event: RunEvent) => void;
  onLog?: (line: string) => void;
  python?: string;
}

/** One line of the demo's table. */
export interface DemoRow {
  method: string;
  runDir: string;
  /** Linear-probe top-1 on the test split, %. */
  probeTop1: number;
  /** Self-supervised training time, s (0 for the random-init encoder). */
  trainSeconds: number;
  /** Training throughput, images/s (NaN for the random-init encoder). */
  imagesPerSecond: number;
}

/**
 * Train each rule on MNIST at reduced width, probe each, and probe a random-init encoder of the
 * same shape as the baseline every learned representation should be compared with.
 */
export async function demo(options: DemoOptions = {}): Promise<DemoRow[]> {
  const rules = options.rules ?? DEFAULT_DEMO_RULES;
  const overrides = [...DEMO_OVERRIDES, ...(options.overrides ?? []).map(parseOverride)];
  const configs = rules.map((rule) => loadPreset(rule, overrides));

  const rows: DemoRow[] = [];
  const job = (method: string) => ({
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.python === undefined ? {} : { python: options.python }),
    ...(options.onLog === undefined ? {} : { onLog: options.onLog }),
    onEvent: (event: RunEvent) => options.onEvent?.(method, event),
  });

  for (const [i, config] of configs.entries()) {
    const method = rules[i] ?? config.name;
    const trained = await train(config, {
      ...job(method),
      runsDir: options.runsDir ?? 'runs',
      source: `preset ${method}`,
    });
    if (trained.status === 'stopped' || trained.result === undefined) return rows;
    const result = await probe(trained.runDir, job(method));
    rows.push({
      method,
      runDir: trained.runDir,
      probeTop1: result.test_top1,
      trainSeconds: trained.result.train_seconds,
      imagesPerSecond: trained.result.images_per_s,
    });
  }

  const baseline = rows[0];
  if (baseline !== undefined) {
    const result = await probe(baseline.runDir, { ...job('random init'), checkpoint: 'none' });
    rows.push({
      method: 'random init',
      runDir: baseline.runDir,
      probeTop1: result.test_top1,
      trainSeconds: 0,
      imagesPerSecond: Number.NaN,
    });
  }
  return rows;
}
