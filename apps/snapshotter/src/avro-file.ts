/**
 * Avro object container files (Avro spec "Object Container Files"), written by hand around avsc's record
 * encoder so the header holds our schema JSON verbatim: Iceberg readers need the `field-id`, `element-id`,
 * `key-id`/`value-id` attributes there, and avsc's own encoders re-serialize the schema without them.
 */
import { randomBytes } from 'node:crypto';
import avro from 'avsc';

function zigzag(n: number): Buffer {
  // Avro long: zig-zag then varint. Lengths and counts here stay far below 2^31.
  let v = n >= 0 ? n * 2 : -n * 2 - 1;
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Buffer.from(out);
}

function avroBytes(b: Buffer): Buffer {
  return Buffer.concat([zigzag(b.length), b]);
}

export function avroContainer(schema: object, records: readonly unknown[], metadata: Record<string, string>): Buffer {
  const type = avro.Type.forSchema(schema as avro.Schema, { wrapUnions: false });
  const sync = randomBytes(16);
  const meta: Record<string, string> = { ...metadata, 'avro.schema': JSON.stringify(schema), 'avro.codec': 'null' };
  const entries = Object.entries(meta);
  const header = [Buffer.from('Obj\x01', 'latin1'), zigzag(entries.length)];
  for (const [k, v] of entries) header.push(avroBytes(Buffer.from(k, 'utf8')), avroBytes(Buffer.from(v, 'utf8')));
  header.push(zigzag(0), sync);
  const parts = [...header];
  if (records.length > 0) {
    const body = Buffer.concat(records.map((r) => type.toBuffer(r)));
    parts.push(zigzag(records.length), zigzag(body.length), body, sync);
  }
  return Buffer.concat(parts);
}

/** Reads a container file written by avroContainer (or any null/deflate-free Avro file): schema metadata and records. */
export function readAvroContainer(buf: Buffer): { metadata: Record<string, string>; records: unknown[] } {
  let pos = 0;
  const readLong = (): number => {
    let shift = 1;
    let v = 0;
    for (;;) {
      const b = buf[pos++]!;
      v += (b & 0x7f) * shift;
      shift *= 128;
      if (!(b & 0x80)) break;
    }
    return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
  };
  const readBytes = (): Buffer => {
    const n = readLong();
    const b = buf.subarray(pos, pos + n);
    pos += n;
    return b;
  };
  if (buf.subarray(0, 4).toString('latin1') !== 'Obj\x01') throw new Error('not an Avro container file');
  pos = 4;
  const metadata: Record<string, string> = {};
  for (;;) {
    let n = readLong();
    if (n === 0) break;
    if (n < 0) {
      n = -n;
      readLong();
    }
    for (let i = 0; i < n; i++) metadata[readBytes().toString('utf8')] = readBytes().toString('utf8');
  }
  pos += 16;
  if (metadata['avro.codec'] && metadata['avro.codec'] !== 'null') throw new Error(`unsupported Avro codec ${metadata['avro.codec']}`);
  const type = avro.Type.forSchema(JSON.parse(metadata['avro.schema']!) as avro.Schema, { wrapUnions: false });
  const records: unknown[] = [];
  while (pos < buf.length) {
    const count = readLong();
    const size = readLong();
    const block = buf.subarray(pos, pos + size);
    pos += size + 16;
    let off = 0;
    for (let i = 0; i < count; i++) {
      const r = type.decode(block, off);
      records.push(r.value);
      off = r.offset;
    }
  }
  return { metadata, records };
}
