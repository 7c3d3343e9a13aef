/**
 * The two shared docker/ files a new app must appear in (docker/src/compose.spec.ts checks both). Edited
 * through the `yaml` Document API, not by string concatenation, so the file's comments, anchors (`&app`)
 * and merge keys (`<<: *app`) survive and the new block reuses them instead of copying their content.
 */
import { Alias, isMap, isScalar, parseDocument, Pair, Scalar, YAMLMap, type Document } from 'yaml';

export interface ComposeServiceSpec {
  /** Service name = app directory = the Dockerfile's APP build argument. */
  name: string;
  /** Comment line(s) above the block. */
  comment: string;
  /** Added after `<<: *app-env` (KAFKA_BROKERS, LOG_LEVEL). */
  environment: Record<string, string>;
}

/** The node that carries `&anchor` (e.g. `x-app: &app`); throws when the file no longer defines it. */
function anchored(doc: Document, anchor: string): Alias {
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
  if (!found) throw new Error(`docker/compose.yaml has no &${anchor} anchor: the generated service block merges it`);
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

  const key = new Scalar(spec.name);
  key.spaceBefore = true;
  key.commentBefore = spec.comment
    .split('\n')
    .map((l) => ` ${l}`)
    .join('\n');
  const end = endOfServices(services);
  services.items.push(new Pair(key, service));
  // yaml re-renders the whole file in its own style (flow sequence padding, folded scalars re-wrapped), so
  // only the new block is taken from its output and spliced into the original text after the last service:
  // everything else stays byte for byte as it was.
  const rendered = doc.toString({ lineWidth: 0 });
  const again = parseDocument(rendered, { merge: true }).get('services', true);
  if (!isMap(again)) throw new Error('internal: the rendered compose file lost its services');
  const block = rendered.slice(endOfServices(again, 1), endOfServices(again)).replace(/^\n+|\n+$/g, '');
  const before = text.slice(0, end);
  return `${before}${before.endsWith('\n') ? '' : '\n'}\n${block}\n${text.slice(end)}`;
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
