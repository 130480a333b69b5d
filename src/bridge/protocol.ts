import { z } from 'zod';
import { BridgeError, PythonError } from '../errors.js';

// localssl.jsonsafe writes non-finite floats as these strings, because bare NaN is not JSON.
const NON_FINITE = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': -Infinity };

/** A Python float: a JSON number or one of "NaN", "Infinity", "-Infinity"; yields a JS number. */
export const pyNumber = z
  .union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity'])])
  .transform((value) => (typeof value === 'number' ? value : NON_FINITE[value]));

/** A Python exception as localssl.bridge reports it. */
export const pythonErrorSchema = z.object({
  type: z.string(),
  message: z.string(),
  traceback: z.string(),
});

/** The one string every localssl.bridge.call returns, after JSON.parse. */
export const envelopeSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), result: z.unknown() }),
  z.object({ ok: z.literal(false), error: pythonErrorSchema }),
]);

export type Envelope = z.infer<typeof envelopeSchema>;

/**
 * The fields every job event has (localssl.events.EventChannel stamps `time_ms`); other fields
 * pass through untouched, and non-finite floats in them stay strings until a pyNumber parses them.
 */
export const jobEventSchema = z.looseObject({ event: z.string().min(1), time_ms: z.number() });

export type JobEvent = z.infer<typeof jobEventSchema>;

/** A zod error as one line: the first few issues with their paths. */
export function describeIssues(error: z.ZodError, limit = 3): string {
  const shown = error.issues.slice(0, limit).map((issue) => {
    const path = issue.path.length > 0 ? issue.path.map(String).join('.') : '(root)';
    return `${path}: ${issue.message}`;
  });
  const more = error.issues.length > limit ? ` (+${error.issues.length - limit} more)` : '';
  return shown.join('; ') + more;
}

/**
 * The result of a bridge call: the reply string parsed, the envelope checked, a Python error
 * raised as PythonError, and the result validated by `schema`.
 */
export function decodeReply<T>(raw: unknown, schema: z.ZodType<T>, what: string): T {
  if (typeof raw !== 'string') {
    throw new BridgeError('E_BRIDGE', `${what} returned a ${typeof raw}, not a JSON string`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new BridgeError('E_BRIDGE', `${what} returned invalid JSON: ${String(error)}`, {
      cause: error,
    });
  }
  const envelope = envelopeSchema.safeParse(parsed);
  if (!envelope.success) {
    throw new BridgeError(
      'E_BRIDGE',
      `${what} returned no bridge envelope: ${describeIssues(envelope.error)}`,
    );
  }
  if (!envelope.data.ok) {
    const { type, message, traceback } = envelope.data.error;
    throw new PythonError(type, message, traceback);
  }
  const result = schema.safeParse(envelope.data.result);
  if (!result.success) {
    throw new BridgeError(
      'E_BRIDGE',
      `${what} returned an unexpected result: ${describeIssues(result.error)}`,
    );
  }
  return result.data;
}
