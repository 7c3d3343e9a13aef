/** @pipeline/generators: the workspace's Nx generators (registered in generators.json). */
export { consumerAppGenerator, type ConsumerAppSchema } from './generators/consumer-app/generator';
export { addComposeService, addHealthPath, type ComposeServiceSpec } from './generators/consumer-app/compose';
export { addWorkspaceToLock } from './generators/consumer-app/lockfile';
