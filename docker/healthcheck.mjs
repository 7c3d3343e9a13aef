// HEALTHCHECK of the app images built by docker/Dockerfile (copied to /usr/local/lib/app-healthcheck/).
// The slim node image has no curl or wget, so the probe is a node script.
//
//   node healthcheck.mjs                  probe http://127.0.0.1:$PORT<path> of app $APP; exit 0 when 2xx
//   node healthcheck.mjs --check-app X    exit 1 unless health-paths.json has an entry for app X (build time)
//
// <path> is $HEALTH_PATH when set, else health-paths.json[$APP]. An entry of null declares an app without
// an HTTP health endpoint: the probe then reports healthy without asking anything (the container runs).
import { readFileSync } from 'node:fs';

const paths = JSON.parse(readFileSync(new URL('./health-paths.json', import.meta.url), 'utf8'));

if (process.argv[2] === '--check-app') {
  const app = process.argv[3] ?? '';
  if (!Object.hasOwn(paths, app)) {
    console.error(
      `docker/health-paths.json has no entry for app "${app}": add its health endpoint path, or null when it has none`,
    );
    process.exit(1);
  }
  process.exit(0);
}

const app = process.env.APP ?? '';
const path = process.env.HEALTH_PATH || paths[app];
if (path === undefined) {
  console.error(`no health path for app "${app}" (docker/health-paths.json) and HEALTH_PATH is unset`);
  process.exit(1);
}
if (path === null) {
  console.log(`${app} declares no HTTP health endpoint`);
  process.exit(0);
}
const url = `http://127.0.0.1:${process.env.PORT || '8080'}${path}`;
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(4000) });
  console.log(`${url} -> ${res.status}`);
  process.exit(res.ok ? 0 : 1);
} catch (err) {
  console.error(`${url} -> ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
