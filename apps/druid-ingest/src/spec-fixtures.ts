/** Supervisor options shared by the unit tests and the integration set-up (testing.ts); not used by the app. */
import type { SupervisorOptions } from './supervisor.spec-builder';

export const baseOptions: SupervisorOptions = {
  dataSource: 'likes_cdc',
  topic: 'actionbase.cdc',
  bootstrapServers: '127.0.0.1:9092',
  queryGranularity: 'minute',
  segmentGranularity: 'hour',
  rollup: true,
  useEarliestOffset: true,
  taskDuration: 'PT1H',
  taskCount: 1,
  replicas: 1,
};
