import { cleanDruid, druidStatus, startDruid, stopDruid } from './druid';
import { cleanKafka, kafkaStatus, startKafka, stopKafka } from './kafka';
import { cleanElasticsearch, elasticsearchStatus, startElasticsearch, stopElasticsearch } from './elasticsearch';
import { cleanPyiceberg, ensurePyiceberg, pyicebergStatus } from './pyiceberg';
import { cleanPostgres, postgresStatus, startPostgres, stopPostgres } from './postgres';
import { prometheusService } from './prometheus';
import { icebergRestService } from './iceberg-rest';

/** What the CLI needs of a service. Elasticsearch, Druid, the Iceberg readers... get an entry beside Kafka. */
export interface ServiceStatus {
  running: boolean;
  /** Where to reach it, e.g. 127.0.0.1:9092. */
  address: string;
  pid?: number;
  note?: string;
}

export interface Service {
  name: string;
  up(onProgress: (msg: string) => void): Promise<void>;
  down(onProgress: (msg: string) => void): Promise<void>;
  status(): Promise<ServiceStatus>;
  clean(onProgress: (msg: string) => void): Promise<void>;
}

export const services: Record<string, Service> = {
  kafka: {
    name: 'kafka',
    async up(onProgress) {
      await startKafka({ onProgress });
    },
    async down(onProgress) {
      await stopKafka({ onProgress });
    },
    async status() {
      const s = await kafkaStatus();
      return {
        running: s.running,
        address: s.bootstrap,
        ...(s.pid !== undefined ? { pid: s.pid } : {}),
        ...(s.foreign ? { note: 'answered by a Kafka this stack folder did not start' } : {}),
        ...(!s.running && s.pid !== undefined ? { note: 'process alive but not answering' } : {}),
      };
    },
    async clean(onProgress) {
      await cleanKafka({ onProgress });
    },
  },
  pyiceberg: {
    name: 'pyiceberg',
    async up(onProgress) {
      await ensurePyiceberg({ onProgress });
    },
    // A venv, not a server: nothing runs, so there is nothing to stop.
    async down() {
      // nothing runs
    },
    async status() {
      const s = await pyicebergStatus();
      return { running: s.running, address: s.python, ...(s.versions ? { note: `pyiceberg/pyarrow/duckdb ${s.versions}` } : {}) };
    },
    async clean(onProgress) {
      await cleanPyiceberg({ onProgress });
    },
  },
  elasticsearch: {
    name: 'elasticsearch',
    async up(onProgress) {
      await startElasticsearch({ onProgress });
    },
    async down(onProgress) {
      await stopElasticsearch({ onProgress });
    },
    async status() {
      const s = await elasticsearchStatus();
      return {
        running: s.running,
        address: s.url,
        ...(s.pid !== undefined ? { pid: s.pid } : {}),
        ...(s.foreign ? { note: 'answered by an Elasticsearch this stack folder did not start' } : {}),
      };
    },
    async clean(onProgress) {
      await cleanElasticsearch({ onProgress });
    },
  },
  druid: {
    name: 'druid',
    async up(onProgress) {
      await startDruid({ onProgress });
    },
    async down(onProgress) {
      await stopDruid({ onProgress });
    },
    async status() {
      const s = await druidStatus();
      const pids = Object.values(s.pids);
      return {
        running: s.running,
        address: `overlord ${s.coordinatorUrl}, broker ${s.brokerUrl}`,
        ...(pids[0] !== undefined ? { pid: pids[0] } : {}),
        ...(s.down.length ? { note: `not answering: ${s.down.join(', ')}` } : {}),
      };
    },
    async clean(onProgress) {
      await cleanDruid({ onProgress });
    },
  },
  postgres: {
    name: 'postgres',
    async up(onProgress) {
      await startPostgres({ onProgress });
    },
    async down(onProgress) {
      await stopPostgres({ onProgress });
    },
    async status() {
      const s = await postgresStatus();
      return {
        running: s.running,
        address: s.url,
        ...(s.pid !== undefined ? { pid: s.pid } : {}),
        ...(s.foreign ? { note: 'answered by a PostgreSQL this stack folder did not start' } : {}),
      };
    },
    async clean(onProgress) {
      await cleanPostgres({ onProgress });
    },
  },
  prometheus: prometheusService,
  'iceberg-rest': icebergRestService,
};
