/** The paper's tables: presets and numbers (configs/paper), running the cells, rendering. */
export {
  type CellFilter,
  cellId,
  loadPaperResults,
  PAPER_DIR,
  type PaperCell,
  type PaperResults,
  type TableCell,
  type TableName,
  tableCells,
  tableNames,
} from './paper.js';
export { renderBesideTable, renderLinearTable, renderReport } from './render.js';
export {
  type CellResult,
  describeProtocol,
  reproduceTable,
  type TableOptions,
  type TableReport,
} from './reproduce.js';
export {
  findRuns,
  type KnnResult,
  type LayerProbesResult,
  measurement,
  type RunMeasurement,
  sameSetup,
} from './runs.js';
export { cellConfig, cellSeeds, type Scale, SMOKE, scaleBanner, scaleNames } from './scale.js';
export { formatDiff, formatStat, type Stat, stat } from './stats.js';
