/**
 * @pipeline/es-indexer: the indexer and the documents it writes, for running it inside another process (the
 * benchmark compares it with the client's bulk helper sending the same documents). The service starts from main.ts.
 */
export { cdcDocument, edgeDocument, mutationIndexPattern, walDocument, type BulkDoc } from './documents';
export { ensureIndices, type IndexSettings } from './indices';
export { startIndexer, type Indexer, type IndexerOptions } from './indexer';
