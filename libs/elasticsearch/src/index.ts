/**
 * @pipeline/elasticsearch: the Elasticsearch client as every app creates it (one set of variables and checks,
 * one options builder, the lossless serializer), and deleting what a query matches. The documents, mappings and
 * queries stay with each app.
 */
export { LongSafeSerializer } from './serializer';
export { deleteWhere, type DeleteWhereOptions } from './delete-where';
export { explainEsError } from './explain';
export {
  checkEsAuth,
  createEsClient,
  esClientOptions,
  esConnectionFromEnv,
  esEnv,
  type ClientOptions,
  type EsClientTuning,
  type EsConnection,
  type EsEnv,
} from './client';
