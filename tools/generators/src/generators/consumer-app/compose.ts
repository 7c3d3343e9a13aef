/**
 * The shared docker/ files a new app must appear in (docker/src/compose.spec.ts checks them): its service in
 * compose.yaml, its health path, and its own Kafka principal in compose.secure.yaml. Edited through the
 * `yaml` Document API, not by string concatenation, so the files' comments, anchors (`&app`) and merge keys
 * (`<<: *app`) survive and the new blocks reuse them instead of copying their content.
 */
import { Alias, isMap, isScalar, isSeq, parseDocument, Pair, Scalar, YAMLMap, type Document } from 'yaml';

export interface ComposeServiceSpec {
  /** Service name = app directory = the Dockerfile's APP build argument. */
  name: string;
  /** Comment line(s) above the block. */
  comment: string;
  /** Added after `<<: *app-env` (KAFKA_BROKERS, LOG_LEVEL). */
  environment: Record<string, string>;
}

/** The node that carries `&anchor` (e.g. `x-app: &app`); throws when the file no longer defines it. */
function anchored(doc: Document, anchor: string, file = 'docker/compose.yaml'): Alias {
  let found: unknown;
  const visit = (node: unknown): void => {
    if (found || node === null || typeof node !== 'object') return;
    if ((node as { anchor?: string }).anchor === anchor) {
      found = node;
      return;
    }
    if (isMap(node)) for (const item of node.items) visit(item.value);
  };
  visit(doc.contents);
  if (!found) throw new Error(`${file} has no &${anchor} anchor: the generated service block merges it`);
  return doc.createAlias(found as Parameters<Document['createAlias']>[0]);
}

const merge = (alias: Alias) => new Pair(new Scalar('<<'), alias);

/** Returns compose.yaml with `spec.name` appended to `services`; the text before it is left as it was. */
export function addComposeService(text: string, spec: ComposeServiceSpec): string {
  const doc = parseDocument(text, { merge: true });
  if (doc.errors.length > 0) throw new Error(`docker/compose.yaml does not parse: ${doc.errors[0]!.message}`);
  const services = doc.get('services', true);
  if (!isMap(services)) throw new Error('docker/compose.yaml has no `services` map');
  if (services.has(spec.name)) throw new Error(`docker/compose.yaml already has a service "${spec.name}"`);

  const args = new YAMLMap();
  args.flow = true;
  args.set('APP', spec.name);
  const build = new YAMLMap();
  build.items.push(merge(anchored(doc, 'app-build')));
  build.set('args', args);

  const environment = new YAMLMap();
  environment.items.push(merge(anchored(doc, 'app-env')));
  for (const [k, v] of Object.entries(spec.environment)) {
    const value = new Scalar(v);
    // Compose wants strings: quote numbers and booleans so they stay strings.
    if (/^(\d+|true|false|yes|no|on|off|null)$/i.test(v)) value.type = Scalar.QUOTE_DOUBLE;
    environment.set(k, value);
  }

  const service = new YAMLMap();
  service.items.push(merge(anchored(doc, 'app')));
  service.set('build', build);
  service.set('environment', environment);
  return appendService(text, doc, services, spec.name, service, spec.comment);
}

/**
 * `text` with `service` appended to `services` under `name`. yaml re-renders the whole file in its own style
 * (flow sequence padding, folded scalars re-wrapped), so only the new block is taken from its output and
 * spliced into the original text after the last service: everything else stays byte for byte as it was.
 */
function appendService(text: string, doc: Document, services: YAMLMap, name: string, service: YAMLMap, comment?: string): string {
  const key = new Scalar(name);
  key.spaceBefore = true;
  if (comment) {
    key.commentBefore = comment
      .split('\n')
      .map((l) => ` ${l}`)
      .join('\n');
  }
  const end = endOfServices(services);
  services.items.push(new Pair(key, service));
  const rendered = doc.toString({ lineWidth: 0 });
  const again = parseDocument(rendered, { merge: true }).get('services', true);
  if (!isMap(again)) throw new Error('internal: the rendered compose file lost its services');
  const block = rendered.slice(endOfServices(again, 1), endOfServices(again)).replace(/^\n+|\n+$/g, '');
  const before = text.slice(0, end);
  return `${before}${before.endsWith('\n') ? '' : '\n'}\n${block}\n${text.slice(end)}`;
}

export interface SecureServiceSpec {
  /** Service name = the app's Kafka principal = its consumer group prefix; its DLQ is `<name>.dlq`. */
  name: string;
  /** The topic it reads (`actionbase.cdc` or `actionbase.wal`). */
  topic: string;
}

/** `KAFKA_<NAME>_PASSWORD`: the secret `docker compose up` must be given for the app's principal. */
export const kafkaPasswordVar = (name: string) => `KAFKA_${name.toUpperCase().replace(/-/g, '_')}_PASSWORD`;

/**
 * Returns compose.secure.yaml with the app's own Kafka principal: its SCRAM user written when `kafka-format`
 * formats the volume, its ACLs in `kafka-acls` (read its topic, groups prefixed by its name, write its DLQ),
 * and a service override that logs in as it once the ACLs are in place. Edits are spliced into the original
 * text at the places the parsed document points to, so the rest of the file stays as it was.
 */
export function addSecureService(text: string, spec: SecureServiceSpec): string {
  const file = 'docker/compose.secure.yaml';
  const doc = parseDocument(text, { merge: true });
  if (doc.errors.length > 0) throw new Error(`${file} does not parse: ${doc.errors[0]!.message}`);
  const services = doc.get('services', true);
  if (!isMap(services)) throw new Error(`${file} has no \`services\` map`);
  if (services.has(spec.name)) throw new Error(`${file} already has a service "${spec.name}"`);
  const secret = kafkaPasswordVar(spec.name);
  const local = `${spec.name.toUpperCase().replace(/-/g, '_')}_PW`;
  const edits: { at: number; insert: string }[] = [];

  // kafka-format: one more `user:"$$PASSWORD"` in its `for u in ...; do` list, and that variable in its environment.
  const format = script(doc, 'kafka-format', file);
  const loop = text.indexOf('for u in ', format.start);
  const loopEnd = loop < 0 ? -1 : text.indexOf('; do', loop);
  if (loop < 0 || loopEnd < 0 || loopEnd > format.end) throw new Error(`${file}: kafka-format's command has no \`for u in ...; do\` list of SCRAM users`);
  const lastLine = text.lastIndexOf('\n', loopEnd) + 1;
  // The list's last line is a continuation line (its indentation), or the `for u in` line itself (past `for u in `).
  const continuation = indentAt(text, lastLine) + (lastLine > loop ? 0 : 'for u in '.length);
  edits.push({ at: loopEnd, insert: ` \\\n${' '.repeat(continuation)}${spec.name}:"$$${local}"` });
  const formatEnv = doc.getIn(['services', 'kafka-format', 'environment'], true);
  const lastEnv = isMap(formatEnv) ? formatEnv.items[formatEnv.items.length - 1] : undefined;
  const lastEnvEnd = (lastEnv?.value as { range?: [number, number, number] } | null)?.range?.[1];
  const lastEnvKey = (lastEnv?.key as { range?: [number, number, number] } | null)?.range?.[0];
  if (lastEnvEnd === undefined || lastEnvKey === undefined) throw new Error(`${file}: kafka-format has no environment map to add ${local} to`);
  edits.push({ at: lastEnvEnd, insert: `\n${' '.repeat(indentAt(text, text.lastIndexOf('\n', lastEnvKey) + 1))}${local}: \${${secret}:?set ${secret}}` });

  // kafka-acls: the app's rights, after the last line of its script.
  const acls = script(doc, 'kafka-acls', file);
  const body = text.slice(acls.start, acls.end).replace(/\s+$/, '');
  const indent = ' '.repeat(indentAt(text, text.indexOf('\n', acls.start) + 1));
  const rights = [
    `# ${spec.name} (generated by @pipeline/generators:consumer-app): reads ${spec.topic} in groups named after it, writes its DLQ.`,
    `acl ${spec.name} --operation Read --operation Describe --topic ${spec.topic}`,
    `acl ${spec.name} --operation Read --operation Describe --group ${spec.name} --resource-pattern-type prefixed`,
    `acl ${spec.name} --operation Create --operation Write --operation Describe --topic ${spec.name}.dlq`,
  ];
  edits.push({ at: acls.start + body.length, insert: rights.map((l) => `\n${indent}${l}`).join('') });

  // Splice from the end of the file backwards so that every offset taken above still points where it did.
  let out = text;
  for (const e of edits.sort((a, b) => b.at - a.at)) out = out.slice(0, e.at) + e.insert + out.slice(e.at);

  // The override itself, appended as compose.yaml's service is (after the last service, comments kept).
  const outDoc = parseDocument(out, { merge: true });
  const outServices = outDoc.get('services', true);
  if (!isMap(outServices)) throw new Error(`internal: ${file} lost its services`);
  const condition = new YAMLMap();
  condition.set('condition', 'service_completed_successfully');
  const dependsOn = new YAMLMap();
  dependsOn.set('kafka-acls', condition);
  const environment = new YAMLMap();
  environment.items.push(merge(anchored(outDoc, 'sasl', file)));
  environment.set('KAFKA_SASL_USERNAME', spec.name);
  environment.set('KAFKA_SASL_PASSWORD', `\${${secret}:?set ${secret}}`);
  const service = new YAMLMap();
  service.set('depends_on', dependsOn);
  service.set('environment', environment);
  return appendService(out, outDoc, outServices, spec.name, service);
}

/**
 * Returns docker/prometheus/prometheus.yml with a job scraping the app on its probe port (8080 in its
 * container), appended after the last job with the indentation the file uses; the rest stays as it was.
 */
export function addScrapeJob(text: string, spec: { name: string; comment: string }): string {
  const file = 'docker/prometheus/prometheus.yml';
  const doc = parseDocument(text);
  if (doc.errors.length > 0) throw new Error(`${file} does not parse: ${doc.errors[0]!.message}`);
  const jobs = doc.get('scrape_configs', true);
  if (!isSeq(jobs) || jobs.items.length === 0) throw new Error(`${file} has no scrape_configs to add a job to`);
  for (const job of jobs.items) {
    if (isMap(job) && job.get('job_name') === spec.name) throw new Error(`${file} already has a job "${spec.name}"`);
  }
  const first = (jobs.items[0] as { range?: [number, number, number] }).range;
  const last = (jobs.items[jobs.items.length - 1] as { range?: [number, number, number] }).range;
  if (!first || !last) throw new Error(`internal: ${file}'s jobs carry no source range`);
  // The item's range starts after its `- `: the dash sits two columns before it.
  const dash = ' '.repeat(first[0] - text.lastIndexOf('\n', first[0]) - 1 - 2);
  const lines = [
    `# ${spec.comment}`,
    `- job_name: ${spec.name}`,
    `  static_configs:`,
    `    - targets: ["${spec.name}:8080"]`,
  ];
  const at = last[1];
  const before = text.slice(0, at).replace(/\n+$/, '');
  return `${before}\n${lines.map((l) => dash + l).join('\n')}\n${text.slice(at).replace(/^\n+/, '')}`;
}

/** The text span of a one-shot service's script (the first item of its `command`, a block scalar). */
function script(doc: Document, service: string, file: string): { start: number; end: number } {
  const node = doc.getIn(['services', service, 'command', 0], true) as { range?: [number, number, number] } | undefined;
  if (!isScalar(node) || !node.range) throw new Error(`${file} has no \`${service}\` service with a command script`);
  return { start: node.range[0], end: node.range[1] };
}

/** The indentation (spaces) of the line that starts at `lineStart`. */
function indentAt(text: string, lineStart: number): number {
  let i = lineStart;
  while (text[i] === ' ') i++;
  return i - lineStart;
}

/** Offset right after the service `fromEnd` places before the last one (0: the last one). */
function endOfServices(services: YAMLMap, fromEnd = 0): number {
  const pair = services.items[services.items.length - 1 - fromEnd];
  const range = (pair?.value as { range?: [number, number, number] } | null)?.range;
  if (!range) throw new Error('docker/compose.yaml: the services map has no service to add after');
  return range[1];
}

/** Returns health-paths.json with `name` mapped to `path` (keys kept in file order, the new one last). */
export function addHealthPath(text: string, name: string, path: string | null): string {
  const paths = JSON.parse(text) as Record<string, string | null>;
  if (Object.hasOwn(paths, name)) throw new Error(`docker/health-paths.json already has an entry for "${name}"`);
  return JSON.stringify({ ...paths, [name]: path }, null, 2) + '\n';
}

/** For tests: whether a value is a plain scalar string. */
export const scalarValue = (node: unknown): unknown => (isScalar(node) ? node.value : node);
