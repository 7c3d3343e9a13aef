/** What the CLI needs of a service, and how a service's own functions become that. */
export interface ServiceStatus {
  running: boolean;
  /** Where to reach it, e.g. 127.0.0.1:9092. */
  address: string;
  pid?: number;
  note?: string;
}

export interface Service {
  name: string;
  /** Not started by `up` without names (a large download, or a server nothing but its own users need). */
  optIn?: boolean;
  up(onProgress: (msg: string) => void): Promise<void>;
  down(onProgress: (msg: string) => void): Promise<void>;
  status(): Promise<ServiceStatus>;
  clean(onProgress: (msg: string) => void): Promise<void>;
}

/** A service's status as its own function gives it. */
export interface EntryStatus {
  running: boolean;
  address: string;
  pid?: number;
  foreign?: boolean;
  /** Parts that are gone or do not answer (Druid's roles). */
  down?: string[];
  note?: string;
}

/** The CLI entry of a service: its start, stop, clean and status on the default folder and ports. */
export function serviceEntry(
  name: string,
  title: string,
  fns: {
    up: (onProgress: (msg: string) => void) => Promise<unknown>;
    down: (onProgress: (msg: string) => void) => Promise<unknown>;
    clean: (onProgress: (msg: string) => void) => Promise<unknown>;
    status: () => Promise<EntryStatus>;
  },
  opts: { optIn?: boolean } = {},
): Service {
  return {
    name,
    ...(opts.optIn ? { optIn: true } : {}),
    async up(onProgress) {
      await fns.up(onProgress);
    },
    async down(onProgress) {
      await fns.down(onProgress);
    },
    async clean(onProgress) {
      await fns.clean(onProgress);
    },
    async status() {
      const s = await fns.status();
      const note = s.note ??
        (s.foreign
          ? `answered by a ${title} server this stack folder did not start`
          : s.down?.length
            ? `not answering: ${s.down.join(', ')}`
            : !s.running && s.pid !== undefined
              ? 'process alive but not answering'
              : undefined);
      return { running: s.running, address: s.address, ...(s.pid !== undefined ? { pid: s.pid } : {}), ...(note ? { note } : {}) };
    },
  };
}
