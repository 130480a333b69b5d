/*
 * safetensors files as typed arrays. Layout: an 8-byte little-endian header length N, N bytes of
 * JSON header ({name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}), then
 * the raw little-endian data, offsets counted from the end of the header.
 *
 * Tensors are how weights, gradients and feature matrices cross from Python: a file costs about
 * 10 ms per 4 MB where a JSON list costs seconds (bridge-notes 3.2).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { z } from 'zod';
import { LocalsslError } from '../errors.js';

/** A tensor read from a file; F16 and BF16 are widened to Float32Array on reading. */
export type Tensor =
  | { dtype: 'F32' | 'F16' | 'BF16'; shape: number[]; data: Float32Array }
  | { dtype: 'F64'; shape: number[]; data: Float64Array }
  | { dtype: 'I64'; shape: number[]; data: BigInt64Array }
  | { dtype: 'U64'; shape: number[]; data: BigUint64Array }
  | { dtype: 'I32'; shape: number[]; data: Int32Array }
  | { dtype: 'U32'; shape: number[]; data: Uint32Array }
  | { dtype: 'I16'; shape: number[]; data: Int16Array }
  | { dtype: 'U16'; shape: number[]; data: Uint16Array }
  | { dtype: 'I8'; shape: number[]; data: Int8Array }
  | { dtype: 'U8' | 'BOOL'; shape: number[]; data: Uint8Array };

/** The element types readSafetensors understands (FP8 types are not supported). */
export type DType = Tensor['dtype'];

/** A float32 tensor to write; `shape` must multiply out to `data.length`. */
export interface Float32Tensor {
  shape: readonly number[];
  data: Float32Array;
}

/** A parsed safetensors file. */
export interface SafetensorsContents {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

const BYTES_PER_ELEMENT: Record<DType, number> = {
  F64: 8,
  I64: 8,
  U64: 8,
  F32: 4,
  I32: 4,
  U32: 4,
  F16: 2,
  BF16: 2,
  I16: 2,
  U16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

const DTYPES = Object.keys(BYTES_PER_ELEMENT) as [DType, ...DType[]];

// The reference implementation refuses headers above 100 MB as a defence against bad files.
const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = '__metadata__';

const entrySchema = z.object({
  dtype: z.enum(DTYPES, { error: (issue) => `dtype ${String(issue.input)} is not supported` }),
  shape: z.array(z.int().nonnegative()),
  data_offsets: z.tuple([z.int().nonnegative(), z.int().nonnegative()]),
});

const metadataSchema = z.record(z.string(), z.string());

class TensorFileError extends LocalsslError {
  constructor(source: string, problem: string) {
    super('E_TENSOR', `${source}: ${problem}`);
    this.name = 'TensorFileError';
  }
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((product, dim) => product * dim, 1);
}

let halfTable: Float32Array | undefined;

// All 65536 half-precision values, decoded once: a lookup beats bit twiddling per element.
function halfToFloatTable(): Float32Array {
  if (halfTable !== undefined) return halfTable;
  const table = new Float32Array(65536);
  for (let bits = 0; bits < 65536; bits++) {
    const sign = bits & 0x8000 ? -1 : 1;
    const exponent = (bits >> 10) & 0x1f;
    const fraction = bits & 0x3ff;
    if (exponent === 0) table[bits] = sign * fraction * 2 ** -24;
    else if (exponent === 31) table[bits] = fraction === 0 ? sign * Infinity : Number.NaN;
    else table[bits] = sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
  }
  halfTable = table;
  return table;
}

// A view when the offset is aligned for the element type, else a copy (still little-endian).
interface TypedArrayKind<A> {
  new (source: ArrayBuffer, byteOffset: number, length: number): A;
  BYTES_PER_ELEMENT: number;
}

function typedArray<A>(
  Kind: TypedArrayKind<A>,
  bytes: Uint8Array,
  start: number,
  count: number,
): A {
  const offset = bytes.byteOffset + start;
  const buffer = bytes.buffer as ArrayBuffer;
  if (offset % Kind.BYTES_PER_ELEMENT === 0) return new Kind(buffer, offset, count);
  return new Kind(buffer.slice(offset, offset + count * Kind.BYTES_PER_ELEMENT), 0, count);
}

function widenHalf(halves: Uint16Array): Float32Array {
  const table = halfToFloatTable();
  const out = new Float32Array(halves.length);
  for (let i = 0; i < halves.length; i++) out[i] = table[halves[i] as number] as number;
  return out;
}

// bfloat16 is the upper half of a float32, so widening is a 16-bit shift of the bit pattern.
function widenBfloat16(halves: Uint16Array): Float32Array {
  const out = new Float32Array(halves.length);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < halves.length; i++) bits[i] = (halves[i] as number) << 16;
  return out;
}

function decode(dtype: DType, shape: number[], bytes: Uint8Array, start: number): Tensor {
  const count = elementCount(shape);
  switch (dtype) {
    case 'F32':
      return { dtype, shape, data: typedArray(Float32Array, bytes, start, count) };
    case 'F16':
      return { dtype, shape, data: widenHalf(typedArray(Uint16Array, bytes, start, count)) };
    case 'BF16':
      return { dtype, shape, data: widenBfloat16(typedArray(Uint16Array, bytes, start, count)) };
    case 'F64':
      return { dtype, shape, data: typedArray(Float64Array, bytes, start, count) };
    case 'I64':
      return { dtype, shape, data: typedArray(BigInt64Array, bytes, start, count) };
    case 'U64':
      return { dtype, shape, data: typedArray(BigUint64Array, bytes, start, count) };
    case 'I32':
      return { dtype, shape, data: typedArray(Int32Array, bytes, start, count) };
    case 'U32':
      return { dtype, shape, data: typedArray(Uint32Array, bytes, start, count) };
    case 'I16':
      return { dtype, shape, data: typedArray(Int16Array, bytes, start, count) };
    case 'U16':
      return { dtype, shape, data: typedArray(Uint16Array, bytes, start, count) };
    case 'I8':
      return { dtype, shape, data: typedArray(Int8Array, bytes, start, count) };
    case 'U8':
    case 'BOOL':
      return { dtype, shape, data: typedArray(Uint8Array, bytes, start, count) };
  }
}

function parseHeader(bytes: Uint8Array, source: string): { header: object; dataStart: number } {
  if (bytes.byteLength < 8) {
    throw new TensorFileError(source, `file is ${bytes.byteLength} bytes, too short for a header`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerBytes = view.getBigUint64(0, true);
  if (headerBytes > BigInt(Math.min(MAX_HEADER_BYTES, bytes.byteLength - 8))) {
    throw new TensorFileError(
      source,
      `header length ${headerBytes} does not fit in a file of ${bytes.byteLength} bytes`,
    );
  }
  const dataStart = 8 + Number(headerBytes);
  let header: unknown;
  try {
    header = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart)),
    );
  } catch (error) {
    throw new TensorFileError(source, `header is not valid JSON (${(error as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new TensorFileError(source, 'header is not a JSON object');
  }
  return { header, dataStart };
}

/**
 * Parses a safetensors file already in memory. F32 (and other native types) are views on
 * `bytes.buffer` when aligned, so keep the whole buffer for as long as the tensors live.
 */
export function parseSafetensors(bytes: Uint8Array, source = '<buffer>'): SafetensorsContents {
  if (endianness() !== 'LE') {
    throw new TensorFileError(source, 'reading safetensors needs a little-endian host');
  }
  const { header, dataStart } = parseHeader(bytes, source);
  const dataBytes = bytes.byteLength - dataStart;

  let metadata: Record<string, string> = {};
  const spans: { name: string; begin: number; end: number }[] = [];
  const entries: { name: string; entry: z.infer<typeof entrySchema> }[] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === METADATA_KEY) {
      const parsed = metadataSchema.safeParse(value);
      if (!parsed.success)
        throw new TensorFileError(source, '__metadata__ must map strings to strings');
      metadata = parsed.data;
      continue;
    }
    const parsed = entrySchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
      throw new TensorFileError(source, `tensor '${name}': ${where}${issue?.message ?? 'invalid'}`);
    }
    const entry = parsed.data;
    const [begin, end] = entry.data_offsets;
    const expected = elementCount(entry.shape) * BYTES_PER_ELEMENT[entry.dtype];
    if (begin > end || end > dataBytes) {
      throw new TensorFileError(
        source,
        `tensor '${name}': data_offsets [${begin}, ${end}] lie outside the ${dataBytes} data bytes`,
      );
    }
    if (end - begin !== expected) {
      throw new TensorFileError(
        source,
        `tensor '${name}': ${entry.dtype} of shape [${entry.shape.join(', ')}] needs ` +
          `${expected} bytes, data_offsets span ${end - begin}`,
      );
    }
    spans.push({ name, begin, end });
    entries.push({ name, entry });
  }

  spans.sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < spans.length; i++) {
    const previous = spans[i - 1] as (typeof spans)[number];
    const current = spans[i] as (typeof spans)[number];
    if (current.begin < previous.end) {
      throw new TensorFileError(
        source,
        `tensor '${current.name}': data overlaps tensor '${previous.name}'`,
      );
    }
  }

  const tensors = new Map<string, Tensor>();
  for (const { name, entry } of entries) {
    tensors.set(name, decode(entry.dtype, entry.shape, bytes, dataStart + entry.data_offsets[0]));
  }
  return { tensors, metadata };
}

/**
 * Reads every tensor of a safetensors file. Aligned F32 tensors are zero-copy views on the
 * file's buffer; F16/BF16 are widened to Float32Array. Throws LocalsslError E_TENSOR naming the
 * file and the tensor when the file is corrupt.
 */
export async function readSafetensors(path: string): Promise<Map<string, Tensor>> {
  let bytes: Uint8Array = await readFile(path);
  // Views must start at known offsets in a buffer of their own, never in Node's shared pool.
  if (bytes.byteOffset !== 0 || bytes.buffer.byteLength !== bytes.byteLength) {
    bytes = new Uint8Array(bytes);
  }
  return parseSafetensors(bytes, path).tensors;
}

/** Encodes float32 tensors as a safetensors file in memory (tensors in name order). */
export function encodeSafetensors(
  tensors: Map<string, Float32Tensor> | Record<string, Float32Tensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const entries = [...(tensors instanceof Map ? tensors : Object.entries(tensors))].sort(
    ([a], [b]) => (a < b ? -1 : a > b ? 1 : 0),
  );
  const header: Record<string, unknown> = {};
  if (metadata !== undefined) header[METADATA_KEY] = metadata;
  let offset = 0;
  for (const [name, tensor] of entries) {
    if (name === METADATA_KEY)
      throw new TensorFileError('<write>', `${METADATA_KEY} is not a tensor name`);
    const bad = tensor.shape.find((dim) => !Number.isInteger(dim) || dim < 0);
    if (bad !== undefined || elementCount(tensor.shape) !== tensor.data.length) {
      throw new TensorFileError(
        '<write>',
        `tensor '${name}': shape [${tensor.shape.join(', ')}] does not match ` +
          `${tensor.data.length} values`,
      );
    }
    const end = offset + tensor.data.byteLength;
    header[name] = { dtype: 'F32', shape: [...tensor.shape], data_offsets: [offset, end] };
    offset = end;
  }

  // Padding the header with spaces to a multiple of 8 keeps every F32 tensor 4-byte aligned.
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLength = Math.ceil(json.byteLength / 8) * 8;
  const out = new Uint8Array(8 + headerLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLength), true);
  out.fill(0x20, 8, 8 + headerLength);
  out.set(json, 8);
  let position = 8 + headerLength;
  for (const [, tensor] of entries) {
    out.set(
      new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength),
      position,
    );
    position += tensor.data.byteLength;
  }
  return out;
}

/** Writes float32 tensors (and optional string metadata) to a safetensors file. */
export async function writeSafetensors(
  path: string,
  tensors: Map<string, Float32Tensor> | Record<string, Float32Tensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  if (endianness() !== 'LE') {
    throw new TensorFileError(path, 'writing safetensors needs a little-endian host');
  }
  await writeFile(path, encodeSafetensors(tensors, metadata));
}
