import { describe, expect, it } from '@jest/globals';
import { classpathPom } from './maven';
import { commonProperties, druidArtifacts, JAVA_MODULE_FLAGS, roleProperties } from './services/druid';

const r = { dir: '/s/druid', ports: { zookeeper: 2181, coordinator: 8081, broker: 8082, historical: 8083, indexer: 8091 }, derbyPort: 1527 };

describe('druid service files', () => {
  it('lists druid-services and the Kafka indexing service, without sigar (its repository is unreachable)', () => {
    const pom = classpathPom('druid', druidArtifacts('33.0.0'));
    expect(pom).toContain('<artifactId>druid-services</artifactId><version>33.0.0</version>');
    expect(pom).toContain('<groupId>org.apache.druid.extensions</groupId><artifactId>druid-kafka-indexing-service</artifactId>');
    expect(pom.match(/<exclusion><groupId>org.hyperic<\/groupId><artifactId>sigar<\/artifactId><\/exclusion>/g)).toHaveLength(2);
  });

  it('finds extensions on the classpath, keeps metadata in Derby and segments on the local disk', () => {
    const p = commonProperties(r);
    expect(p).toContain('druid.extensions.loadList=[]');
    expect(p).toContain('druid.metadata.storage.type=derby');
    expect(p).toContain('druid.metadata.storage.connector.connectURI=jdbc:derby://127.0.0.1:1527//s/druid/var/metadata.db;create=true');
    expect(p).toContain('druid.storage.storageDirectory=/s/druid/var/segments');
    expect(p).toContain('druid.zk.service.host=127.0.0.1:2181');
  });

  it('makes the coordinator the Overlord and gives the indexer task slots', () => {
    expect(roleProperties('coordinator', r)).toContain('druid.coordinator.asOverlord.enabled=true');
    expect(roleProperties('indexer', r)).toContain('druid.worker.capacity=3');
    expect(roleProperties('broker', r)).toContain('druid.plaintextPort=8082');
    expect(JAVA_MODULE_FLAGS).toContain('--add-opens=java.base/java.nio=ALL-UNNAMED');
  });
});
