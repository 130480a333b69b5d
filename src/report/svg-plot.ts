/** A dependency-free SVG line plot: one line per series, optional error bars, axes and legend. */

export interface PlotPoint {
  x: number;
  y: number;
  /** Half-width of an error bar around y. */
  error?: number;
}

export interface PlotSeries {
  name: string;
  points: readonly PlotPoint[];
}

export interface LinePlot {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly PlotSeries[];
  /** Fixed y range; by default the data's range with a margin. */
  yRange?: [number, number];
  /** Integer ticks on x (layers, epochs). @default true */
  integerX?: boolean;
}

const PLOT_WIDTH = 420;
const HEIGHT = 400;
const MARGIN = { left: 64, top: 40, bottom: 52 };
// Roughly the width of one character at font size 12, to size the legend column.
const CHAR_PX = 7;
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2'];

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** One SVG element: `tag('line', { x1: 0 })` or, with text content, `tag('text', {...}, 'a')`. */
function tag(name: string, attrs: Record<string, string | number>, text?: string): string {
  const list = Object.entries(attrs)
    .map(([key, value]) => `${key}="${value}"`)
    .join(' ');
  return text === undefined
    ? `<${name} ${list}/>`
    : `<${name} ${list}>${escapeXml(text)}</${name}>`;
}

function niceTicks(low: number, high: number, count: number): number[] {
  const span = high - low || 1;
  const raw = span / count;
  const step = 10 ** Math.floor(Math.log10(raw));
  const nice = [1, 2, 5, 10].map((m) => m * step).find((s) => s >= raw) ?? step * 10;
  const ticks: number[] = [];
  for (let t = Math.ceil(low / nice) * nice; t <= high + nice * 1e-9; t += nice) {
    ticks.push(Number(t.toPrecision(12)));
  }
  return ticks;
}

/** Render the plot as a standalone SVG document. */
export function renderLinePlot(plot: LinePlot): string {
  const points = plot.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.y));
  const xs = points.map((p) => p.x);
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  const lows = points.map((p) => p.y - (p.error ?? 0));
  const highs = points.map((p) => p.y + (p.error ?? 0));
  const dataLow = Math.min(...lows);
  const dataHigh = Math.max(...highs);
  const pad = (dataHigh - dataLow) * 0.08 || 0.05;
  const [yMin, yMax] = plot.yRange ?? [dataLow - pad, dataHigh + pad];

  const legendWidth = 48 + CHAR_PX * Math.max(0, ...plot.series.map((s) => s.name.length));
  const WIDTH = MARGIN.left + PLOT_WIDTH + legendWidth;
  const innerW = PLOT_WIDTH;
  const innerH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const sx = (x: number) => MARGIN.left + ((x - xMin) / (xMax - xMin || 1)) * innerW;
  const sy = (y: number) => MARGIN.top + (1 - (y - yMin) / (yMax - yMin || 1)) * innerH;

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" ` +
      `viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    tag('rect', { width: WIDTH, height: HEIGHT, fill: 'white' }),
    tag(
      'text',
      { x: MARGIN.left + innerW / 2, y: 22, 'text-anchor': 'middle', 'font-size': 14 },
      plot.title,
    ),
  ];

  // Axes, grid and ticks.
  const xTicks = plot.integerX === false ? niceTicks(xMin, xMax, 6) : uniqueIntegers(xs);
  for (const t of niceTicks(yMin, yMax, 6)) {
    parts.push(
      tag('line', {
        x1: MARGIN.left,
        x2: MARGIN.left + innerW,
        y1: sy(t),
        y2: sy(t),
        stroke: '#e5e5e5',
      }),
      tag('text', { x: MARGIN.left - 6, y: sy(t) + 4, 'text-anchor': 'end' }, String(t)),
    );
  }
  for (const t of xTicks) {
    parts.push(
      tag('text', { x: sx(t), y: MARGIN.top + innerH + 18, 'text-anchor': 'middle' }, String(t)),
    );
  }
  parts.push(
    tag('rect', {
      x: MARGIN.left,
      y: MARGIN.top,
      width: innerW,
      height: innerH,
      fill: 'none',
      stroke: '#333',
    }),
    tag(
      'text',
      { x: MARGIN.left + innerW / 2, y: HEIGHT - 12, 'text-anchor': 'middle' },
      plot.xLabel,
    ),
    tag(
      'text',
      {
        transform: `translate(16 ${MARGIN.top + innerH / 2}) rotate(-90)`,
        'text-anchor': 'middle',
      },
      plot.yLabel,
    ),
  );

  // One polyline per series, error bars, and a legend entry.
  plot.series.forEach((series, i) => {
    const color = COLORS[i % COLORS.length];
    const finite = series.points.filter((p) => Number.isFinite(p.y));
    const path = finite.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ');
    parts.push(`<polyline points="${path}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const p of finite) {
      parts.push(`<circle cx="${sx(p.x)}" cy="${sy(p.y)}" r="3" fill="${color}"/>`);
      if (p.error !== undefined && p.error > 0) {
        parts.push(
          tag('line', {
            x1: sx(p.x),
            x2: sx(p.x),
            y1: sy(p.y - p.error),
            y2: sy(p.y + p.error),
            stroke: color ?? '#000',
          }),
        );
      }
    }
    const ly = MARGIN.top + 14 + i * 18;
    const lx = MARGIN.left + innerW + 12;
    parts.push(
      tag('line', {
        x1: lx,
        x2: lx + 18,
        y1: ly - 4,
        y2: ly - 4,
        stroke: color ?? '#000',
        'stroke-width': 2,
      }),
      tag('text', { x: lx + 24, y: ly }, series.name),
    );
  });

  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

function uniqueIntegers(xs: readonly number[]): number[] {
  return [...new Set(xs.map((x) => Math.round(x)))].sort((a, b) => a - b);
}
