import { druidService } from './druid';
import { elasticsearchService } from './elasticsearch';
import type { Service } from './entry';
import { icebergRestService } from './iceberg-rest';
import { kafkaService } from './kafka';
import { postgresService } from './postgres';
import { prometheusService } from './prometheus';
import { pyicebergService } from './pyiceberg';
import { trinoService } from './trino';

export type { Service, ServiceStatus } from './entry';

/** The CLI's services, in the order `up` without names starts them (opt-in ones only by name). */
export const services: Record<string, Service> = {
  kafka: kafkaService,
  pyiceberg: pyicebergService,
  elasticsearch: elasticsearchService,
  druid: druidService,
  postgres: postgresService,
  prometheus: prometheusService,
  'iceberg-rest': icebergRestService,
  trino: trinoService,
};
