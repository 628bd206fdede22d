import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical.js';
import { canonicalRow } from './chain.js';

/** IEEE-754 double from its 16 hex digits, as RFC 8785 Appendix B lists them. */
const double = (hex: string) => Buffer.from(hex, 'hex').readDoubleBE(0);

describe('RFC 8785 canonical JSON', () => {
  it('serializes the RFC’s sample object (§3.2.2) byte for byte', () => {
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],' +
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",' +
        ' "literals": [null, true, false]}',
    );
    expect(canonicalJson(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('sorts keys by UTF-16 code units (§3.2.3), so an emoji sorts before U+FB33', () => {
    const input = JSON.parse(
      '{"\\u20ac": "Euro Sign", "\\r": "Carriage Return", "\\ufb33": "Hebrew Letter Dalet With Dagesh",' +
        ' "1": "One", "\\ud83d\\ude00": "Emoji: Grinning Face", "\\u0080": "Control",' +
        ' "\\u00f6": "Latin Small Letter O With Diaeresis"}',
    );
    expect(canonicalJson(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","ö":"Latin Small Letter O With Diaeresis",' +
        '"€":"Euro Sign","😀":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it('formats numbers as the RFC’s Appendix B vectors', () => {
    const vectors: Array<[string, string]> = [
      ['0000000000000000', '0'],
      ['8000000000000000', '0'],
      ['0000000000000001', '5e-324'],
      ['8000000000000001', '-5e-324'],
      ['7fefffffffffffff', '1.7976931348623157e+308'],
      ['ffefffffffffffff', '-1.7976931348623157e+308'],
      ['4340000000000000', '9007199254740992'],
      ['c340000000000000', '-9007199254740992'],
      ['4430000000000000', '295147905179352830000'],
      ['44b52d02c7e14af5', '9.999999999999997e+22'],
      ['44b52d02c7e14af6', '1e+23'],
      ['44b52d02c7e14af7', '1.0000000000000001e+23'],
      ['444b1ae4d6e2ef4e', '999999999999999700000'],
      ['444b1ae4d6e2ef4f', '999999999999999900000'],
      ['444b1ae4d6e2ef50', '1e+21'],
      ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
      ['3eb0c6f7a0b5ed8d', '0.000001'],
      ['41b3de4355555553', '333333333.3333332'],
      ['41b3de4355555554', '333333333.33333325'],
      ['41b3de4355555555', '333333333.3333333'],
      ['41b3de4355555556', '333333333.3333334'],
      ['41b3de4355555557', '333333333.33333343'],
      ['becbf647612f3696', '-0.0000033333333333333333'],
      ['43143ff3c1cb0959', '1424953923781206.2'],
    ];
    for (const [hex, expected] of vectors) expect(canonicalJson(double(hex)), hex).toBe(expected);
  });

  it('refuses NaN and Infinity, which JSON cannot carry', () => {
    expect(() => canonicalJson(double('7ff8000000000000'))).toThrow();
    expect(() => canonicalJson(double('7ff0000000000000'))).toThrow();
  });

  it('escapes only what JSON must and keeps other unicode literal', () => {
    expect(canonicalJson({ s: '\u0000\u001f\u007f\u2028é' })).toBe('{"s":"\\u0000\\u001f\u007f\u2028é"}');
  });
});

describe('the fast row serializer', () => {
  const text = fc.string({ unit: 'binary', maxLength: 12 });
  const nullableText = fc.option(text, { nil: null });
  const row = fc.record({
    id: fc.uuid(),
    chain: text,
    seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    orgId: fc.option(fc.uuid(), { nil: null }),
    actorType: fc.constantFrom('user' as const, 'api_key' as const, 'system' as const),
    actorId: nullableText,
    action: text,
    targetType: nullableText,
    targetId: nullableText,
    metadata: fc.dictionary(text, fc.jsonValue()),
    ip: nullableText,
    createdAt: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  });

  it('writes exactly what the RFC 8785 canonicalizer writes, for any row', () => {
    fc.assert(
      fc.property(row, (r) => {
        expect(canonicalRow(r)).toBe(canonicalJson(r));
      }),
      { numRuns: 500 },
    );
  });

  it('refuses a lone surrogate, as the canonicalizer does', () => {
    const r = fc.sample(row, 1)[0]!;
    expect(() => canonicalJson({ ...r, action: '\ud800' })).toThrow();
    expect(() => canonicalRow({ ...r, action: '\ud800' })).toThrow(/Lone surrogate/);
  });
});
