import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { pyNumber, resolvePythonInterpreter } from '../../src/bridge/index.js';
import { LocalsslError } from '../../src/errors.js';
import {
  encodeSafetensors,
  parseSafetensors,
  readSafetensors,
  type Tensor,
  writeSafetensors,
} from '../../src/tensors/index.js';

const scratch = mkdtempSync(join(tmpdir(), 'localssl-safetensors-'));
const pythonFile = join(scratch, 'from-python.safetensors');
const expectedFile = join(scratch, 'expected.json');

// One torch process writes every dtype; the expected values travel as jsonsafe JSON (floats
// widened to float64 by torch, integers as decimal strings so that int64 stays exact).
const WRITE_WITH_TORCH = `
import json, sys, torch
from safetensors.torch import save_file
from localssl.jsonsafe import dumps

nan, inf = float("nan"), float("inf")
floats = [0.0, -0.0, 1.0, -2.5, 3.140625, 65504.0, 6e-8, 1e-3, inf, -inf, nan, 0.1]
tensors = {
    "f32": torch.arange(24, dtype=torch.float32).reshape(2, 3, 4) / 7,
    "f32_special": torch.tensor(floats, dtype=torch.float32),
    "f16": torch.tensor(floats, dtype=torch.float16).reshape(3, 4),
    "bf16": torch.tensor(floats + [1e30, -1e-30], dtype=torch.bfloat16),
    "f64": torch.tensor([0.1, -1e300, 5e-324, nan], dtype=torch.float64),
    "i64": torch.tensor([-(2**62), 2**53 + 1, 0, 42], dtype=torch.int64),
    "i32": torch.tensor([[-(2**31), 2**31 - 1], [0, 7]], dtype=torch.int32),
    "i16": torch.tensor([-32768, 5], dtype=torch.int16),
    "i8": torch.tensor([-128, 127, 0], dtype=torch.int8),
    "u8": torch.tensor([0, 255, 7], dtype=torch.uint8),
    "flags": torch.tensor([True, False, True]),
    "scalar": torch.tensor(2.5, dtype=torch.float32),
    "empty": torch.zeros(0, 3, dtype=torch.float32),
}
save_file(tensors, sys.argv[1], metadata={"format": "pt", "step": "12"})

def values(t):
    flat = t.flatten()
    if t.is_floating_point():
        return flat.double().tolist()
    return [str(v) for v in flat.long().tolist()]

expected = {name: {"shape": list(t.shape), "values": values(t)} for name, t in tensors.items()}
with open(sys.argv[2], "w") as handle:
    handle.write(dumps(expected))
`;

const expectedSchema = z.record(
  z.string(),
  z.object({
    shape: z.array(z.number()),
    values: z.array(z.union([pyNumber, z.string()])),
  }),
);

let expected: z.infer<typeof expectedSchema>;
let tensors: Map<string, Tensor>;

beforeAll(async () => {
  await execa(resolvePythonInterpreter(), ['-c', WRITE_WITH_TORCH, pythonFile, expectedFile]);
  expected = expectedSchema.parse(JSON.parse(await readFile(expectedFile, 'utf8')));
  tensors = await readSafetensors(pythonFile);
}, 60_000);

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

function tensor(name: string): Tensor {
  const found = tensors.get(name);
  if (found === undefined) throw new Error(`no tensor ${name}`);
  return found;
}

function numbers(data: Tensor['data']): number[] {
  return Array.from(data as ArrayLike<number>, Number);
}

describe('readSafetensors on files written by torch', () => {
  it('reads every tensor with its dtype and shape', () => {
    expect([...tensors.keys()].sort()).toEqual(Object.keys(expected).sort());
    for (const [name, want] of Object.entries(expected)) {
      expect(tensor(name).shape, name).toEqual(want.shape);
    }
    expect(tensor('f32').dtype).toBe('F32');
    expect(tensor('f16').dtype).toBe('F16');
    expect(tensor('bf16').dtype).toBe('BF16');
    expect(tensor('f64').dtype).toBe('F64');
    expect(tensor('i64').dtype).toBe('I64');
    expect(tensor('flags').dtype).toBe('BOOL');
  });

  it.each([
    'f32',
    'f32_special',
    'f16',
    'bf16',
    'f64',
    'scalar',
    'empty',
  ])('matches torch exactly for float tensor %s', (name) => {
    const { data } = tensor(name);
    expect(data instanceof Float32Array || data instanceof Float64Array).toBe(true);
    expect(numbers(data)).toEqual(expected[name]?.values);
  });

  it('widens F16 and BF16 to Float32Array, keeping -0, subnormals, infinities and NaN', () => {
    const f16 = tensor('f16').data as Float32Array;
    expect(f16).toBeInstanceOf(Float32Array);
    expect(Object.is(f16[1], -0)).toBe(true);
    expect(f16[6]).toBeCloseTo(5.96e-8, 10);
    expect(f16[8]).toBe(Number.POSITIVE_INFINITY);
    expect(f16[10]).toBeNaN();
    expect(tensor('bf16').data).toBeInstanceOf(Float32Array);
  });

  it.each([
    'i64',
    'i32',
    'i16',
    'i8',
    'u8',
    'flags',
  ])('matches torch for integer tensor %s', (name) => {
    const { data } = tensor(name);
    const actual = Array.from(data as ArrayLike<number | bigint>, (value) => String(value));
    expect(actual).toEqual(expected[name]?.values);
  });

  it('gives int64 as an exact BigInt64Array', () => {
    const { data } = tensor('i64');
    expect(data).toBeInstanceOf(BigInt64Array);
    expect(data[1]).toBe(2n ** 53n + 1n);
  });

  it('returns aligned F32 tensors as zero-copy views on the file buffer', async () => {
    const bytes = await readFile(pythonFile);
    const owned = bytes.byteOffset === 0 ? bytes : new Uint8Array(bytes);
    const parsed = parseSafetensors(owned, pythonFile);
    expect(parsed.tensors.get('f32')?.data.buffer).toBe(owned.buffer);
    expect(parsed.metadata).toEqual({ format: 'pt', step: '12' });

    const fileSize = statSync(pythonFile).size;
    expect(tensor('f32').data.buffer.byteLength).toBe(fileSize);
    expect(tensor('f32').data.buffer).toBe(tensor('f32_special').data.buffer);
  });
});

// A hand-built file: a header object, then raw data bytes.
function fileWith(header: Record<string, unknown>, data: Uint8Array): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.byteLength + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.byteLength), true);
  out.set(json, 8);
  out.set(data, 8 + json.byteLength);
  return out;
}

describe('parseSafetensors', () => {
  it('copies an F32 tensor whose offset is not 4-aligned', () => {
    const data = new Uint8Array(5);
    new DataView(data.buffer).setFloat32(1, 1.25, true);
    const header = {
      a: { dtype: 'U8', shape: [1], data_offsets: [0, 1] },
      b: { dtype: 'F32', shape: [1], data_offsets: [1, 5] },
    };
    const bytes = fileWith(header, data);
    const parsed = parseSafetensors(bytes, 'unaligned.safetensors').tensors.get('b');
    expect(parsed?.data[0]).toBe(1.25);
    expect(parsed?.data.buffer).not.toBe(bytes.buffer);
  });

  const f32 = { dtype: 'F32', shape: [2], data_offsets: [0, 8] };
  it.each([
    ['a file shorter than the length prefix', new Uint8Array(4), /too short for a header/],
    [
      'a header length beyond the file',
      (() => {
        const bytes = fileWith({ w: f32 }, new Uint8Array(8));
        new DataView(bytes.buffer).setBigUint64(0, 10_000n, true);
        return bytes;
      })(),
      /header length 10000 does not fit in a file of/,
    ],
    [
      'a header that is not JSON',
      (() => {
        const bytes = fileWith({ w: f32 }, new Uint8Array(8));
        bytes[8] = 0x7e;
        return bytes;
      })(),
      /header is not valid JSON/,
    ],
    [
      'data offsets past the end',
      fileWith({ w: f32 }, new Uint8Array(4)),
      /tensor 'w': data_offsets \[0, 8\] lie outside the 4 data bytes/,
    ],
    [
      'a size that does not match the shape',
      fileWith({ w: { ...f32, shape: [3] } }, new Uint8Array(8)),
      /tensor 'w': F32 of shape \[3\] needs 12 bytes, data_offsets span 8/,
    ],
    [
      'an unsupported dtype',
      fileWith({ w: { ...f32, dtype: 'F8_E4M3' } }, new Uint8Array(8)),
      /tensor 'w': dtype: dtype F8_E4M3 is not supported/,
    ],
    [
      'a negative dimension',
      fileWith({ w: { ...f32, shape: [-2] } }, new Uint8Array(8)),
      /tensor 'w': shape\.0: /,
    ],
    [
      'overlapping tensors',
      fileWith({ a: f32, b: { ...f32, data_offsets: [4, 12] } }, new Uint8Array(12)),
      /tensor 'b': data overlaps tensor 'a'/,
    ],
    [
      'metadata that is not all strings',
      fileWith({ __metadata__: { step: 3 }, w: f32 }, new Uint8Array(8)),
      /__metadata__ must map strings to strings/,
    ],
  ])('throws E_TENSOR naming the file for %s', (_label, bytes, problem) => {
    let caught: unknown;
    try {
      parseSafetensors(bytes, '/runs/x/weights.safetensors');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(LocalsslError);
    expect((caught as LocalsslError).code).toBe('E_TENSOR');
    expect((caught as LocalsslError).message).toMatch(/^\/runs\/x\/weights\.safetensors: /);
    expect((caught as LocalsslError).message).toMatch(problem);
  });

  it('names the file when readSafetensors meets a corrupt file', async () => {
    const path = join(scratch, 'corrupt.safetensors');
    await writeFile(path, fileWith({ w: f32 }, new Uint8Array(4)));
    await expect(readSafetensors(path)).rejects.toThrow(`${path}: tensor 'w': data_offsets`);
  });
});

describe('writeSafetensors', () => {
  it('writes F32 files that torch-free Python reads back exactly', async () => {
    const path = join(scratch, 'from-node.safetensors');
    const weights = Float32Array.from([0.5, -1.25, 3, Number.NaN, Number.POSITIVE_INFINITY, 1e-40]);
    await writeSafetensors(
      path,
      {
        'layer.weight': { shape: [2, 3], data: weights },
        bias: { shape: [1], data: Float32Array.of(7) },
      },
      { written_by: 'node' },
    );

    const script = [
      'import json, sys',
      'from safetensors import safe_open',
      'from localssl.jsonsafe import dumps',
      'with safe_open(sys.argv[1], "numpy") as f:',
      '    out = {k: {"dtype": str(f.get_tensor(k).dtype), "shape": list(f.get_tensor(k).shape),',
      '               "values": f.get_tensor(k).astype("float64").ravel().tolist()}',
      '          for k in f.keys()}',
      '    out["__metadata__"] = f.metadata()',
      'sys.stderr.write(dumps(out))',
    ].join('\n');
    const { stderr } = await execa(resolvePythonInterpreter(), ['-c', script, path]);
    const seen = JSON.parse(stderr);
    expect(seen.__metadata__).toEqual({ written_by: 'node' });
    expect(seen['layer.weight'].dtype).toBe('float32');
    expect(seen['layer.weight'].shape).toEqual([2, 3]);
    expect(seen['layer.weight'].values.map((value: unknown) => pyNumber.parse(value))).toEqual(
      Array.from(weights),
    );
    expect(seen.bias.values).toEqual([7]);

    const back = await readSafetensors(path);
    expect(back.get('layer.weight')?.data).toEqual(weights);
  }, 30_000);

  it('pads the header so that F32 data stays 4-byte aligned', () => {
    const bytes = encodeSafetensors({ x: { shape: [1], data: Float32Array.of(1) } });
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + headerLength) % 8).toBe(0);
  });

  it('refuses a shape that does not match the data', () => {
    expect(() => encodeSafetensors({ x: { shape: [2, 2], data: new Float32Array(3) } })).toThrow(
      "tensor 'x': shape [2, 2] does not match 3 values",
    );
  });
});
