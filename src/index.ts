/**
 * localssl's public API. Importing it starts nothing: the Python process for short calls starts
 * on the first call that needs it and ends with closeEngine() or when Node exits.
 */

export {
  type AlignMeta,
  type AlignmentReport,
  type AlignOptions,
  align,
  alignmentByLayerPlot,
  alignmentByStepPlot,
  type LayerAlignment,
  type LayerGradients,
  liveAlignment,
  readAlignmentGradients,
  summarizeAlignment,
  writeComparison,
} from './align/align.js';
export {
  compareUpdates,
  type MeanInterval,
  meanInterval,
  type UpdateComparison,
} from './analysis/similarity.js';
export { setupPythonEnvironment, venvState } from './bridge/environment.js';
export {
  PythonBridge,
  type PythonBridgeOptions,
  resolvePythonInterpreter,
  runJob,
} from './bridge/index.js';
export { configJsonSchema } from './config/json-schema.js';
export { loadConfig, type Override, parseOverride, resolveConfig } from './config/load.js';
export { loadPreset, presetNames } from './config/presets.js';
export {
  type Config,
  configSchema,
  type RawConfig,
  type Rule,
  SCHEMA_VERSION,
} from './config/schema.js';
export {
  type CheckDataOptions,
  checkData,
  type DataCheck,
  type DownloadOptions,
  type DownloadProgress,
  downloadData,
  type ManagedDataset,
  managedDatasets,
} from './data/manage.js';
export { DEFAULT_DEMO_RULES, type DemoOptions, type DemoRow, demo } from './demo.js';
export { type DoctorReport, doctor } from './doctor.js';
export { checkConfig, closeEngine, engine } from './engine.js';
export {
  ConfigError,
  type ErrorCode,
  LocalsslError,
  PythonError,
  PythonSetupError,
} from './errors.js';
export { type LinePlot, type PlotSeries, renderLinePlot } from './report/svg-plot.js';
export type { ProbeResult, RunEvent, TrainResult } from './run/events.js';
export { type ProbeOptions, probe } from './run/probe.js';
export { openRun, type Run } from './run/run-dir.js';
export {
  type JobOptions,
  resume,
  type TrainOptions,
  type TrainOutcome,
  train,
} from './run/train.js';
export {
  type CellResult,
  loadPaperResults,
  renderReport,
  reproduceTable,
  type Scale,
  type TableName,
  type TableOptions,
  type TableReport,
} from './tables/index.js';
export * from './tensors/index.js';
export {
  readTheoryReport,
  THEORY_EXPERIMENTS,
  type TheoryExperiment,
  type TheoryOptions,
  type TheoryReport,
  type TheoryResult,
  theory,
  type VariantAlignment,
} from './theory/theory.js';
