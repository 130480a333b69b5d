import { describe, expect, it } from 'vitest';
import { clock, fixed, renderTable } from '../../src/report/table.js';

describe('renderTable', () => {
  it('pads columns, aligns numbers right, and rules the header', () => {
    const text = renderTable(
      [{ header: 'method' }, { header: 'top-1', align: 'right' }],
      [
        ['clapp-pp', '88.20'],
        ['random init', '7.5'],
      ],
    );
    expect(text.split('\n')).toEqual([
      'method       top-1',
      '-----------  -----',
      'clapp-pp     88.20',
      'random init    7.5',
    ]);
  });
});

describe('fixed and clock', () => {
  it('formats missing values as a dash', () => {
    expect(fixed(Number.NaN, 2)).toBe('-');
    expect(fixed(undefined, 2)).toBe('-');
    expect(fixed(1.005, 1)).toBe('1.0');
  });

  it('formats seconds as m:ss or h:mm:ss', () => {
    expect(clock(65)).toBe('1:05');
    expect(clock(3725)).toBe('1:02:05');
    expect(clock(Number.POSITIVE_INFINITY)).toBe('-:--');
  });
});
