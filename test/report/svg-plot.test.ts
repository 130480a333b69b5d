import { describe, expect, it } from 'vitest';
import { renderLinePlot } from '../../src/report/svg-plot.js';

describe('renderLinePlot', () => {
  const svg = renderLinePlot({
    title: 'Cosine <local, BP>',
    xLabel: 'layer',
    yLabel: 'cosine similarity',
    series: [
      {
        name: 'same layer',
        points: [
          { x: 1, y: 0.5, error: 0.1 },
          { x: 2, y: 0.9 },
        ],
      },
      {
        name: 'DFB',
        points: [
          { x: 1, y: 0.7 },
          { x: 2, y: Number.NaN },
        ],
      },
    ],
  });

  it('is a standalone SVG document with escaped text', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('Cosine &lt;local, BP&gt;');
  });

  it('draws one line and one legend entry per series, skipping non-finite points', () => {
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    expect(svg).toContain('>same layer</text>');
    expect(svg).toContain('>DFB</text>');
    expect(svg.match(/<circle/g)).toHaveLength(3);
  });
});
