/**
 * The Elasticsearch client's JSON, with LONGs beyond 2^53 kept exact both ways. Elasticsearch's `long` is 64-bit
 * and its `_source` keeps the digits it was sent, but the client's own serializer refuses bigints on the way out
 * (JSON.stringify) and rounds them on the way in (JSON.parse). The project's lossless JSON (@pipeline/events)
 * costs nothing extra on text without a 16-digit run, so every request and answer goes through it.
 */
import { errors, Serializer } from '@elastic/elasticsearch';
import { parseJson, stringifyJson } from '@pipeline/events';

export class LongSafeSerializer extends Serializer {
  override serialize(object: Record<string, unknown>): string {
    try {
      return stringifyJson(object);
    } catch (err) {
      throw new errors.SerializationError((err as Error).message, object);
    }
  }

  override deserialize<T = unknown>(json: string): T {
    try {
      return parseJson(json) as T;
    } catch (err) {
      throw new errors.DeserializationError((err as Error).message, json);
    }
  }
}
