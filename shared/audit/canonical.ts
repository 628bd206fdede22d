import canonicalize from 'canonicalize';

/** RFC 8785 (JSON Canonicalization Scheme): the bytes every audit hash is computed over. */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new Error('value cannot be canonicalized');
  return text;
}
