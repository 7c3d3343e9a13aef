/**
 * @pipeline/druid-ingest: the supervisor spec and how it is applied, for use without the service (the benchmark
 * applies it to a datasource of its own). The service itself starts from main.ts, the CLI from cli.ts.
 */
export { applySupervisor, isFinalApplyError, supervisorHealth, type ApplyResult } from './supervisor.apply';
export { buildSupervisorSpec, type SupervisorOptions, type SupervisorSpec } from './supervisor.spec-builder';
