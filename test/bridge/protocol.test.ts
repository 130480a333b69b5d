import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { LineTail } from '../../src/bridge/line-tail.js';
import {
  decodeReply,
  envelopeSchema,
  jobEventSchema,
  pyNumber,
} from '../../src/bridge/protocol.js';
import { BridgeError, PythonError } from '../../src/errors.js';

describe('pyNumber', () => {
  it.each([
    [1.5, 1.5],
    [-2, -2],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
  ])('reads %j as %d', (input, expected) => {
    expect(pyNumber.parse(input)).toBe(expected);
  });

  it.each(['nan', 'inf', '1.5', null, true])('rejects %j', (input) => {
    expect(pyNumber.safeParse(input).success).toBe(false);
  });
});

describe('envelopeSchema', () => {
  it('accepts ok and error envelopes', () => {
    expect(envelopeSchema.parse({ ok: true, result: [1] })).toEqual({ ok: true, result: [1] });
    const error = { type: 'ValueError', message: 'bad', traceback: 'Traceback ...' };
    expect(envelopeSchema.parse({ ok: false, error })).toEqual({ ok: false, error });
  });

  it('rejects an error envelope without a traceback', () => {
    const parsed = envelopeSchema.safeParse({ ok: false, error: { type: 'X', message: 'y' } });
    expect(parsed.success).toBe(false);
  });
});

describe('decodeReply', () => {
  const schema = z.object({ loss: pyNumber });

  it('returns the validated result of an ok envelope', () => {
    expect(decodeReply('{"ok":true,"result":{"loss":"NaN"}}', schema, 'api.fit')).toEqual({
      loss: Number.NaN,
    });
  });

  it('raises the Python error of an error envelope', () => {
    const reply = JSON.stringify({
      ok: false,
      error: { type: 'KeyError', message: "'lr'", traceback: 'Traceback ...' },
    });
    expect(() => decodeReply(reply, schema, 'api.fit')).toThrow(PythonError);
    expect(() => decodeReply(reply, schema, 'api.fit')).toThrow("KeyError: 'lr'");
  });

  it.each([
    [42, 'api.fit returned a number, not a JSON string'],
    ['{"loss": NaN}', /^api\.fit returned invalid JSON: SyntaxError/],
    ['{"loss": 1}', /^api\.fit returned no bridge envelope: ok: /],
    ['{"ok":true,"result":{"loss":"x"}}', /^api\.fit returned an unexpected result: loss: /],
  ])('rejects %j with one line', (raw, message) => {
    expect(() => decodeReply(raw, schema, 'api.fit')).toThrow(BridgeError);
    expect(() => decodeReply(raw, schema, 'api.fit')).toThrow(message);
  });
});

describe('jobEventSchema', () => {
  it('keeps fields beyond event and time_ms', () => {
    const event = { event: 'step', time_ms: 1, step: 3, loss: 'NaN' };
    expect(jobEventSchema.parse(event)).toEqual(event);
  });

  it.each([{ time_ms: 1 }, { event: 'step' }, { event: '', time_ms: 1 }])('rejects %j', (raw) => {
    expect(jobEventSchema.safeParse(raw).success).toBe(false);
  });
});

describe('LineTail', () => {
  it('keeps the last lines of chunked text, including an unterminated one', () => {
    const tail = new LineTail(3);
    tail.push('one\ntw');
    tail.push('o\r\nthree\nfour\nfi');
    expect(tail.lines()).toEqual(['three', 'four', 'fi']);
    expect(tail.lastLine()).toBe('fi');
  });

  it('skips blank lines when picking the last line', () => {
    const tail = new LineTail();
    tail.pushLine('Error: boom');
    tail.pushLine('   ');
    expect(tail.lastLine()).toBe('Error: boom');
  });
});
