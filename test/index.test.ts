import { describe, expect, it } from 'vitest';

describe('the public API', () => {
  it('imports without starting Python and exposes every operation', async () => {
    const before = process.env.PYTHON_BIN;
    const api = await import('../src/index.js');
    for (const name of ['train', 'resume', 'probe', 'align', 'theory', 'demo', 'doctor']) {
      expect(typeof (api as Record<string, unknown>)[name]).toBe('function');
    }
    expect(typeof api.readSafetensors).toBe('function');
    expect(api.SCHEMA_VERSION).toBe(1);
    // pythonia is loaded (and Python started) only on the first call.
    expect(process.env.PYTHON_BIN).toBe(before);
    expect(process.getActiveResourcesInfo()).not.toContain('ProcessWrap');
  });
});
