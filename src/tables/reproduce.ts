import { availableParallelism } from 'node:os';
import type { PythonBridge } from '../bridge/index.js';
import type { Config, DatasetName } from '../config/schema.js';
import { withDataRoot } from '../data/roots.js';
import { engine } from '../engine.js';
import { LocalsslError } from '../errors.js';
import { fixed } from '../report/table.js';
import type { RunEvent } from '../run/events.js';
import { probe } from '../run/probe.js';
import { openRun } from '../run/run-dir.js';
import { resume, train } from '../run/train.js';
import {
  type CellFilter,
  loadPaperResults,
  type TableCell,
  type TableName,
  tableCells,
} from './paper.js';
import { findRuns, measurement, type RunMeasurement } from './runs.js';
import {
  cellConfig,
  cellSeeds,
  type Scale,
  scaleBanner,
  syntheticRootPath,
  writeSyntheticRoot,
} from './scale.js';
import { type Stat, stat } from './stats.js';

export interface TableOptions extends CellFilter {
  table: TableName;
  /** @default 'smoke' */
  scale?: Scale;
  /** Where cell runs are looked for and made. @default 'runs' */
  runsDir?: string;
  /** Seeds per cell: 2, 3, ... @default 1 */
  seeds?: number;
  /** Paper scale: the folder holding the datasets (each in its official folder name). */
  dataRoot?: string;
  /**
   * Cells trained at the same time. @default smoke: the CPU count (at most 4), each job with
   * an equal share of the threads; paper: 1
   */
  jobs?: number;
  /** False: only collect finished runs, never train or probe. @default true */
  run?: boolean;
  /** Aborting stops the running job gracefully; the report then has what finished. */
  signal?: AbortSignal;
  /** Every job event, tagged with its cell and seed, e.g. "clapp-pp/cifar10 seed 2". */
  onEvent?: (tag: string, event: RunEvent) => void;
  /** Announces each job as it starts. */
  onJob?: (tag: string, job: 'train' | 'resume' | 'probe') => void;
  onLog?: (line: string) => void;
  python?: string;
  /** Bridge for the synthetic data and the config checks. @default the shared engine() */
  bridge?: PythonBridge;
}

/** The options every job of a cell shares. */
interface JobHooks {
  signal?: AbortSignal;
  python?: string;
  onLog?: (line: string) => void;
  onEvent: (event: RunEvent) => void;
}

/** Measured numbers of one cell, over its seeds, with the protocol they were measured under. */
export interface CellResult {
  cell: TableCell;
  runs: RunMeasurement[];
  /** Seeds without a complete run (only when not running jobs, or after a stop). */
  missingSeeds: number[];
  /** Linear probe on all layers, last epoch. */
  linear: Stat | undefined;
  /** The same probe's best epoch on test (the official code's "Validation top1"). */
  linearBest: Stat | undefined;
  knn: { k: number; kUsed: number; top1: Stat | undefined }[];
  /** Per-layer linear probes, last epoch, layer 1 first. */
  layers: (Stat | undefined)[];
  protocol: { linear: string; knn: string | undefined; layers: string | undefined };
}

export interface TableReport {
  table: TableName;
  title: string;
  scale: Scale;
  banner: string;
  runsDir: string;
  cells: CellResult[];
  /** The signal stopped the work before every cell was done. */
  stopped: boolean;
}

function range(values: readonly number[]): string {
  return values.length > 1 && values.at(-1) === values[0]! + values.length - 1
    ? `${values[0]}-${values.at(-1)}`
    : values.join(',');
}

/** The protocol of a run's numbers, in words short enough for a table column. */
export function describeProtocol(m: RunMeasurement): CellResult['protocol'] {
  const p = m.config.probe;
  const layers = `L${range(m.probe.protocol.layers)} ${m.probe.feature_dim}-d`;
  const scale = p.cropScale ?? m.config.data.augmentation.cropScale;
  const aug = p.augment ? `aug crop ${scale[0]}-${scale[1]}+flip` : 'no aug';
  const test = p.testResize === null ? '' : `, test resize ${p.testResize}`;
  const ssl = `SSL ${m.config.train.epochs} ep, loss ${fixed(m.train.final_loss, 3)}`;
  const linear = `${layers}, last of ${m.probe.epochs} ep, ${aug}${test}; ${ssl}`;
  let knn: string | undefined;
  if (m.knn !== undefined) {
    const capped = m.knn.results.find((r) => r.k_used !== r.k);
    knn =
      `cosine, exp(s/${m.knn.temperature}), bank ${m.knn.bank_images} un-aug` +
      (capped === undefined ? '' : `, k<=${capped.k_used}`);
  }
  const perLayer = m.layers === undefined ? undefined : `last of ${m.layers.epochs} ep, same aug`;
  return { linear, knn, layers: perLayer };
}

function summarise(cell: TableCell, runs: RunMeasurement[], missingSeeds: number[]): CellResult {
  const first = runs[0];
  const ks = first?.knn?.results ?? [];
  const layerCount = first?.layers?.layers.length ?? 0;
  return {
    cell,
    runs,
    missingSeeds,
    linear: stat(runs.map((r) => r.probe.test_top1)),
    linearBest: stat(runs.map((r) => r.probe.best_test_top1)),
    knn: ks.map((entry, i) => ({
      k: entry.k,
      kUsed: entry.k_used,
      top1: stat(runs.map((r) => r.knn?.results[i]?.test_top1 ?? Number.NaN)),
    })),
    layers: Array.from({ length: layerCount }, (_, i) =>
      stat(runs.map((r) => r.layers?.layers[i]?.test_top1 ?? Number.NaN)),
    ),
    protocol:
      first === undefined
        ? { linear: '-', knn: undefined, layers: undefined }
        : describeProtocol(first),
  };
}

/** Cells run at once unless told: smoke, one per core (at most 4); paper, one. */
export function defaultJobs(scale: Scale): number {
  return scale === 'smoke' ? Math.min(availableParallelism(), 4) : 1;
}

/**
 * Fill a table of the paper: collect the finished run of every cell and seed under `runsDir`,
 * train and probe the ones missing (unless `run` is false), and report each cell's numbers
 * beside the paper's. Cells are matched by their whole config (seed, data location and device
 * aside), so runs of another scale or with edited settings are never mixed in.
 */
export async function reproduceTable(options: TableOptions): Promise<TableReport> {
  const scale = options.scale ?? 'smoke';
  const runsDir = options.runsDir ?? 'runs';
  const bridge = options.bridge ?? engine();
  const results = loadPaperResults();
  const cells = tableCells(results, options.table, options);
  const seeds = cellSeeds(options.seeds ?? 1);
  const run = options.run ?? true;

  // Synthetic data first (smoke), then every config checked against its data before any job
  // starts: a missing dataset fails in one line, not hours into the table.
  const roots = new Map<DatasetName, string | undefined>();
  for (const cell of cells) {
    if (roots.has(cell.dataset)) continue;
    let root = options.dataRoot;
    if (scale === 'smoke') {
      root = run
        ? await writeSyntheticRoot(cell.dataset, runsDir, bridge)
        : syntheticRootPath(cell.dataset, runsDir);
    }
    roots.set(cell.dataset, root);
  }
  const jobs = options.jobs ?? defaultJobs(scale);
  // Smoke jobs are mostly interpreter start-up, one core each: running them side by side with a
  // thread each beats running them one after the other with every core.
  const threads = scale === 'smoke' ? Math.max(1, Math.floor(availableParallelism() / jobs)) : null;
  const plan = cells.map((cell) => ({
    cell,
    configs: seeds.map((seed) => cellConfig(cell, scale, seed, roots.get(cell.dataset), threads)),
  }));
  if (run && scale === 'paper' && options.dataRoot === undefined) {
    const unset = plan.find(({ configs }) => configs[0]?.data.root === null);
    if (unset !== undefined) {
      throw new LocalsslError(
        'E_DATA',
        `${unset.cell.id} needs the real ${unset.cell.dataset}: pass --data-root DIR, the ` +
          'folder holding cifar-10-batches-py/, stl10_binary/ or tiny-imagenet-200/ ' +
          `(\`localssl data download ${unset.cell.dataset} --root DIR\` fetches it)`,
      );
    }
  }
  if (run) for (const { configs } of plan) configs.forEach(withDataRoot);

  const job = (tag: string): JobHooks => ({
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.python === undefined ? {} : { python: options.python }),
    ...(options.onLog === undefined ? {} : { onLog: options.onLog }),
    onEvent: (event: RunEvent) => options.onEvent?.(tag, event),
  });

  // One task per cell and seed, run `jobs` at a time; results land in their table position.
  const tasks = plan.flatMap(({ configs }, c) => configs.map((config) => ({ c, config })));
  const done: (RunMeasurement | undefined)[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const index = next++;
      const { c, config } = tasks[index]!;
      const tag = `${plan[c]!.cell.id} seed ${config.seed}`;
      done[index] =
        options.signal?.aborted || !run
          ? collect(runsDir, config)
          : await ensureRun(runsDir, config, tag, { ...options, bridge }, job(tag));
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, tasks.length) }, worker));

  return {
    table: options.table,
    title: results.tables[options.table].title,
    scale,
    banner: scaleBanner(scale),
    runsDir,
    cells: plan.map(({ cell, configs }, c) => {
      const mine = tasks.flatMap((task, i) => (task.c === c ? [done[i]] : []));
      const runs = mine.filter((m): m is RunMeasurement => m !== undefined);
      const missing = configs.filter((_, i) => mine[i] === undefined).map((cfg) => cfg.seed);
      return summarise(cell, runs, missing);
    }),
    stopped: options.signal?.aborted === true,
  };
}

function collect(runsDir: string, config: Config): RunMeasurement | undefined {
  const runs = findRuns(runsDir, config, config.seed);
  for (const found of runs.reverse()) {
    const m = measurement(found);
    if (m !== undefined) return m;
  }
  return undefined;
}

/** The cell's finished run at this seed, completing or making one as needed. */
async function ensureRun(
  runsDir: string,
  config: Config,
  tag: string,
  options: TableOptions & { bridge: PythonBridge },
  job: JobHooks,
): Promise<RunMeasurement | undefined> {
  const existing = collect(runsDir, config);
  if (existing !== undefined) return existing;

  // Reuse the newest unfinished run of this setup: resume its training, or just probe it.
  let dir = findRuns(runsDir, config, config.seed).at(-1)?.dir;
  let trained = dir !== undefined && openRun(dir).train !== undefined;
  if (dir !== undefined && !trained && openRun(dir).checkpoints.length > 0) {
    options.onJob?.(tag, 'resume');
    const outcome = await resume(dir, job);
    trained = outcome.status === 'finished';
  } else if (!trained) {
    // Training and probing in one job saves an engine start-up: most of a smoke cell's time.
    options.onJob?.(tag, 'train');
    const outcome = await train(config, {
      ...job,
      runsDir,
      source: `${tag} (${config.name})`,
      bridge: options.bridge,
      probe: true,
    });
    dir = outcome.runDir;
    trained = outcome.status === 'finished';
    const measured = trained ? measurement(openRun(dir)) : undefined;
    if (measured !== undefined) return measured;
  }
  if (!trained || dir === undefined || options.signal?.aborted) return undefined;
  options.onJob?.(tag, 'probe');
  await probe(dir, job);
  return measurement(openRun(dir));
}
