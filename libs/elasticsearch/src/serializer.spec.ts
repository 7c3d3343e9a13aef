import { describe, expect, it } from '@jest/globals';
import { errors } from '@elastic/elasticsearch';
import { LongSafeSerializer } from './serializer';

const s = new LongSafeSerializer();

describe('LongSafeSerializer', () => {
  it('writes a bigint beyond 2^53 as its exact digits, where JSON.stringify refuses it', () => {
    const doc = { version: 1732900000000000001n, target: 9007199254740993n, small: 7n, name: 'x' };
    expect(() => JSON.stringify(doc)).toThrow();
    expect(s.serialize(doc)).toBe('{"version":1732900000000000001,"target":9007199254740993,"small":7,"name":"x"}');
    expect(s.ndserialize([{ index: { _id: 'a', version: 9007199254740993n } }, doc])).toBe(
      '{"index":{"_id":"a","version":9007199254740993}}\n{"version":1732900000000000001,"target":9007199254740993,"small":7,"name":"x"}\n',
    );
  });

  it('reads an answer\'s LONG beyond 2^53 exactly, where JSON.parse rounds it', () => {
    const text = '{"_source":{"target":9007199254740993,"n":5,"id":"cdc:shop.likes:1234567890123456"}}';
    expect((JSON.parse(text) as { _source: { target: number } })._source.target).toBe(9007199254740992);
    expect(s.deserialize<{ _source: unknown }>(text)._source).toEqual({ target: 9007199254740993n, n: 5, id: 'cdc:shop.likes:1234567890123456' });
  });

  it('fails as the client\'s own serialization errors, so its error handling applies', () => {
    expect(() => s.deserialize('{"a":')).toThrow(errors.DeserializationError);
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(() => s.serialize(cyclic)).toThrow(errors.SerializationError);
  });
});
